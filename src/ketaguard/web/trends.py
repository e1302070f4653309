"""Score trend charts: what a chart draws, built from dated scores, shared by the staff chart and
the patient portal. `templates/_trend.html` renders one (a canvas that `static/trend.js` draws
with Chart.js, and the same points as a table for screen readers and when scripts are off)."""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class TrendPoint:
    at: datetime
    value: float


@dataclass(frozen=True)
class TrendLine:
    """A horizontal reference line, e.g. a remission cut-off from an instrument definition."""

    value: float
    label: str


@dataclass(frozen=True)
class TrendMark:
    """A vertical marker at a moment, e.g. when a response was first reached."""

    at: datetime
    label: str


@dataclass(frozen=True)
class TrendChart:
    key: str  # unique on the page: the element ids derive from it
    title: str
    axis: str  # what the y axis counts, e.g. "PHQ-9 total (0-27)"
    points: Sequence[TrendPoint]
    y_min: float = 0
    y_max: float | None = None
    lines: Sequence[TrendLine] = field(default_factory=tuple)
    marks: Sequence[TrendMark] = field(default_factory=tuple)

    def data_json(self) -> str:
        """What trend.js draws, for the canvas's data-trend attribute."""
        return json.dumps(
            {
                "title": self.title,
                "axis": self.axis,
                "y_min": self.y_min,
                "y_max": self.y_max,
                "points": [{"x": p.at.isoformat(), "y": p.value} for p in self.points],
                "lines": [{"y": line.value, "label": line.label} for line in self.lines],
                "marks": [{"x": mark.at.isoformat(), "label": mark.label} for mark in self.marks],
            }
        )
