"""Task metrics as quality metrics: measurement settings, option tables, objectives, scenario, CLI parsing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bssim.options.links import Channels, ShannonLink
from bssim.options.measure import MeasureSpec
from bssim.options.objective import Objective
from bssim.options.table import OptionTable


def _rows() -> pd.DataFrame:
    """One item, direct and key at one level; key keeps the people better (person_f1) but scores lower SSIM."""
    return pd.DataFrame([
        {"item": "A", "scheme": "direct", "rate_level": 0, "rate_label": "r0", "snr_db": np.nan, "bits": 8e5,
         "symbols": np.nan, "ssim": 0.9, "psnr_db": 30.0, "person_f1": 0.5},
        {"item": "A", "scheme": "key", "rate_level": 0, "rate_label": "r0", "snr_db": np.nan, "bits": 8e5,
         "symbols": np.nan, "ssim": 0.8, "psnr_db": 28.0, "person_f1": 1.0},
    ])


def _menu():
    ch = Channels(gain=np.array([1e-10]), noise_w=np.array([1e-13]), loss_w=np.zeros(1),
                  bandwidth_hz=np.array([5e6]), delay_s=0.1)
    return ShannonLink().price(OptionTable.from_rows(_rows()).offers(np.array([0])), ch)


def test_objective_schedules_by_a_task_metric():
    menu = _menu()
    assert set(menu.quality) == {"ssim", "psnr_db", "person_f1"}
    by_f1 = Objective(metric="person_f1").utility(menu)[0]
    by_ssim = Objective(metric="ssim").utility(menu)[0]
    assert by_f1.tolist() == [0.5, 1.0] and np.argmax(by_f1) != np.argmax(by_ssim)
    with pytest.raises(ValueError, match="person_iou.*not measured"):
        Objective(metric="person_iou").utility(menu)
    with pytest.raises(ValueError, match="person_count"):
        Objective(metric="person_count")


def test_measure_spec_metrics_are_checked_and_default_stays_image_metrics():
    assert MeasureSpec().metrics == ("ssim", "psnr_db")
    assert MeasureSpec(metrics=("person_iou", "person_f1")).as_dict()["metrics"] == ("person_iou", "person_f1")
    with pytest.raises(ValueError, match="unknown"):
        MeasureSpec(metrics=("person_recall",))
    with pytest.raises(ValueError, match="each once"):
        MeasureSpec(metrics=("ssim", "ssim"))


def test_scenario_objective_accepts_task_metrics_and_measures_them():
    from bssim.scenario import ObjectiveSettings

    assert ObjectiveSettings(metric="person_iou").metric_column == "person_iou"
    with pytest.raises(ValueError, match="person_iou"):
        ObjectiveSettings(metric="people")


def test_cli_metric_list():
    from bssim.cli.pipeline import parse_metrics

    assert parse_metrics("ssim, psnr,person_iou,person_f1") == ("ssim", "psnr_db", "person_iou", "person_f1")
    with pytest.raises(ValueError, match="unknown: iou"):
        parse_metrics("ssim,iou")
    with pytest.raises(ValueError, match="distinct"):
        parse_metrics("ssim,ssim")
