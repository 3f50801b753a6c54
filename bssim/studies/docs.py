"""Pasting a study's numbers into a Markdown file between ``<!-- TAG:begin -->`` and ``<!-- TAG:end -->``."""

from __future__ import annotations

import math
from pathlib import Path

from bssim.atomic import write_text


def replace_section(doc: str | Path, tag: str, text: str) -> None:
    """Replace what lies between the ``tag`` markers of ``doc`` by ``text`` (atomic write)."""
    doc = Path(doc)
    body = doc.read_text()
    a, b = f"<!-- {tag}:begin -->", f"<!-- {tag}:end -->"
    if a not in body or b not in body:
        raise ValueError(f"{doc}: markers {a} / {b} not found")
    pre, rest = body.split(a, 1)
    _, post = rest.split(b, 1)
    write_text(doc, pre + a + "\n" + text + b + post)


def cell(value: float | None, spec: str) -> str:
    """A table cell: ``value`` formatted by ``spec``, "–" for a missing or non-finite value."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return format(value, spec)
