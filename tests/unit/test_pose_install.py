"""The ``pose`` extractors without mediapipe: one clear error naming the install step."""

from __future__ import annotations

import sys

import pytest

from bssim.pipeline.extract import EXTRACTORS, ExtractorSettings, _pose


def test_pose_extractors_are_offered_and_say_how_to_install_mediapipe(monkeypatch):
    assert {"pose", "pose+bgdiff"} <= set(EXTRACTORS)
    monkeypatch.setitem(sys.modules, "mediapipe", None)  # import mediapipe now raises ImportError
    _pose.cache_clear()
    for name in ("pose", "pose+bgdiff"):
        with pytest.raises(ValueError, match=r"needs mediapipe 0\.10\.21.*pip install --no-deps mediapipe==0\.10\.21"):
            ExtractorSettings(name)
    _pose.cache_clear()
