"""Bar charts of a gradebook, laid out here and drawn by a template as SVG (no JavaScript, nothing
loaded from elsewhere)."""

from __future__ import annotations

from dataclasses import dataclass

from grading.computation import plain
from grading.selectors import Gradebook

BIN_WIDTH = 10
BAR_STEP, PLOT_HEIGHT, TOP_MARGIN = 40, 100, 16


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    x: int
    y: float
    width: int
    height: float

    @property
    def center(self) -> float:
        return self.x + self.width / 2

    @property
    def count_y(self) -> float:
        return self.y - 3


@dataclass(frozen=True)
class Chart:
    caption: str
    bars: list[Bar]

    @property
    def width(self) -> int:
        return BAR_STEP * len(self.bars)

    @property
    def height(self) -> int:
        return PLOT_HEIGHT + TOP_MARGIN + 20  # room for counts above and labels below

    @property
    def baseline(self) -> int:
        return PLOT_HEIGHT + TOP_MARGIN


def bar_chart(caption: str, labels: list[str], counts: list[int]) -> Chart:
    tallest = max(counts, default=0) or 1
    bars = []
    for index, (label, count) in enumerate(zip(labels, counts, strict=True)):
        height = PLOT_HEIGHT * count / tallest
        y = PLOT_HEIGHT + TOP_MARGIN - height
        x = index * BAR_STEP
        bars.append(Bar(label, count, x + 4, round(y, 1), BAR_STEP - 8, round(height, 1)))
    return Chart(caption, bars)


def letter_chart(book: Gradebook) -> Chart:
    letters = [cutoff.letter for cutoff in book.spec.cutoffs]
    counts = dict.fromkeys(letters, 0)
    for _, breakdown in book.rows():
        counts[breakdown.letter] += 1
    return bar_chart("Students by letter", letters, [counts[letter] for letter in letters])


def total_chart(book: Gradebook) -> Chart:
    """Rounded totals in bins of 10 points, from 0 to the scheme's maximum."""
    top = int(book.spec.total_points)
    starts = list(range(0, top + 1, BIN_WIDTH))
    counts = [0] * len(starts)
    for _, breakdown in book.rows():
        index = min(int(breakdown.rounded_total // BIN_WIDTH), len(starts) - 1)
        counts[max(index, 0)] += 1
    labels = [str(start) for start in starts]
    return bar_chart(f"Students by total (bins of {BIN_WIDTH} points, from)", labels, counts)


def item_chart(book: Gradebook, item) -> Chart:
    """One item's final points (late penalties and overrides applied) in tenths of its maximum;
    students without a score are counted apart, in the caption."""
    counts = [0] * 10
    missing = 0
    for _, breakdown in book.rows():
        earned = breakdown.item(item.pk).earned
        if earned is None:
            missing += 1
            continue
        share = earned / item.max_points if item.max_points else 0
        counts[min(max(int(share * 10), 0), 9)] += 1
    labels = [f"{10 * n}%" for n in range(10)]
    caption = f"{item.name}: students by score (from, share of {plain(item.max_points)} points)"
    return bar_chart(caption + (f"; {missing} without a score" if missing else ""), labels, counts)
