"""Trend charts as PNG bytes: matplotlib's Agg canvas, Hangul in the bundled NanumGothic.

Pure: counts in, bytes out. No pyplot and no rcParams changes (both are process-wide state):
every text element gets the font explicitly, so charts can be drawn from worker threads.
"""

from __future__ import annotations

import functools
import importlib.util
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

FONT_PACKAGE = "koreanize_matplotlib"  # a dependency for its fonts; never imported (see below)
FONT_FILE = "fonts/NanumGothic.ttf"
SIZE = (8.0, 4.2)  # inches; at DPI 100: 800 × 420 px, under Telegram's 10 MB / 10,000 px
DPI = 100


@functools.cache
def korean_font() -> FontProperties:
    """NanumGothic from the installed koreanize-matplotlib package.

    Found without importing the package: its import rewrites matplotlib's global font settings
    (and needs distutils, gone in Python 3.12).
    """
    spec = importlib.util.find_spec(FONT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{FONT_PACKAGE} is not installed: charts cannot show Hangul")
    path = Path(next(iter(spec.submodule_search_locations))) / FONT_FILE
    return FontProperties(fname=path)


def month_axis(months: Sequence[str]) -> list[str]:
    """Every "YYYY-MM" from the first to the last of `months`, in order (gaps filled)."""
    if not months:
        return []
    first, last = min(months), max(months)
    year, month = int(first[:4]), int(first[5:7])
    axis = []
    while (label := f"{year:04d}-{month:02d}") <= last:
        axis.append(label)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return axis


def render_trend_chart(
    series: Mapping[str, Mapping[str, int]], *, title: str, y_label: str
) -> bytes:
    """A line per topic of its papers per month ({topic: {"YYYY-MM": count}}) as PNG bytes."""
    font = korean_font()
    axis = month_axis([month for counts in series.values() for month in counts])
    figure = Figure(figsize=SIZE, dpi=DPI)
    FigureCanvasAgg(figure)
    plot = figure.add_subplot()
    positions = range(len(axis))
    for topic, counts in series.items():
        values = [counts.get(month, 0) for month in axis]
        plot.plot(positions, values, marker="o" if len(axis) <= 24 else None, label=topic)
    step = max(1, len(axis) // 12)
    plot.set_xticks(list(positions)[::step], axis[::step], rotation=45, ha="right")
    plot.set_title(title, fontproperties=font, fontsize=13)
    plot.set_ylabel(y_label, fontproperties=font)
    plot.set_ylim(bottom=0)
    plot.grid(alpha=0.3)
    plot.legend(prop=font, loc="upper left")
    for label in plot.get_xticklabels() + plot.get_yticklabels():
        label.set_fontproperties(font)
        label.set_fontsize(8)
    # Fixed margins: tight_layout draws the whole figure once more to measure it (~40 ms).
    figure.subplots_adjust(left=0.08, right=0.98, top=0.9, bottom=0.2)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
