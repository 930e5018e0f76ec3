"""The one computation of grades: from (scheme, items, scores, extensions) to a student's breakdown.

Pure functions over frozen dataclasses, with no database access, so the staff gradebook, the
student's page, the API and the CSV export all show the same numbers. Item points are exact
``Decimal`` (nothing is divided there); a component's share, the one division, is an exact fraction
(``30 × 2/3`` is exactly 20, where a 28-digit Decimal gives 19.999…, which would band 89.5 as 89)
and comes out as ``Decimal`` again.

The rules (DESIGN.md):
- a component's share is ``points × Σ earned / Σ possible`` over the items that count;
- a component drops its lowest N items by percentage, never an item marked "never drop", and never
  all of them; an excused item counts for neither sum; an item with no score yet does not count;
- late work loses ``percent_per_day`` per started day late, not below ``floor_percent`` of the
  points, and nothing after ``max_days_late``; the due date is the student's own (extensions);
- an override by staff is final: no penalty applies to it;
- the total is the sum of shares; by default it is rounded half-up to a whole point, and the letter
  is the first cutoff (lower bound) the rounded total reaches.

Shown numbers (``shown``): a share or a total is cut to the places shown, never rounded up, so that
a shown total rounds, and bands, the way the exact total does: 75.4999995 shows as 75.49 (rounded
75, C), never as 75.5 beside "75, C".
"""

from __future__ import annotations

import datetime
import heapq
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from functools import cached_property, lru_cache
from typing import NamedTuple

ONE_DAY = datetime.timedelta(days=1)
ZERO, ONE, HUNDRED = Decimal(0), Decimal(1), Decimal(100)
# Decimals a page shows of a share or a total; letter cutoffs have at most this many, so that a
# shown total reaches a cutoff exactly when the exact total does.
SHOWN_PLACES = 2
# Decimals the breakdown keeps of a share or a total (the CSV and the API show these).
KEPT_PLACES = 6


class Rounding(StrEnum):
    HALF_UP = "half_up"
    NONE = "none"


class Status(StrEnum):
    GRADED = "graded"
    MISSING = "missing"
    EXCUSED = "excused"


class ItemState(StrEnum):
    COUNTED = "counted"
    DROPPED = "dropped"
    EXCUSED = "excused"
    UNGRADED = "ungraded"  # no score yet: counts for neither sum
    HIDDEN = "hidden"  # not published, in a student's own view


# Read in the gradebook's inner loop, 60,000 times: a module name, not an enum's attribute.
COUNTED = ItemState.COUNTED


@dataclass(frozen=True)
class LatePolicy:
    percent_per_day: Decimal = Decimal(10)
    floor_percent: Decimal = Decimal(0)
    max_days_late: int = 7

    def kept(self, days_late: int) -> Decimal:
        """The part of the points a submission ``days_late`` started days late keeps (exact)."""
        if days_late <= 0:
            return ONE
        if days_late > self.max_days_late:
            return ZERO
        kept = ONE - self.percent_per_day * days_late / HUNDRED
        return max(kept, self.floor_percent / HUNDRED, ZERO)


@dataclass(frozen=True)
class ComponentSpec:
    name: str
    points: Decimal
    drop_lowest: int = 0
    late_policy: LatePolicy | None = None  # None: the scheme's


@dataclass(frozen=True)
class Cutoff:
    letter: str
    min_points: Decimal


@dataclass(frozen=True)
class SchemeSpec:
    components: tuple[ComponentSpec, ...]
    cutoffs: tuple[Cutoff, ...]  # descending lower bounds; the last is 0
    rounding: Rounding = Rounding.HALF_UP
    late_policy: LatePolicy = field(default_factory=LatePolicy)
    version: int = 1

    @property
    def total_points(self) -> Decimal:
        return sum((c.points for c in self.components), Decimal(0))

    @cached_property
    def cutoff_bounds(self) -> tuple[tuple[Fraction, str], ...]:
        """The cutoffs as (exact lower bound, letter), highest first: made once per scheme."""
        return tuple((exact_fraction(c.min_points), c.letter) for c in self.cutoffs)

    @cached_property
    def policies(self) -> tuple[LatePolicy, ...]:
        """Each component's late policy (its own, else the scheme's), in component order."""
        return tuple(c.late_policy or self.late_policy for c in self.components)

    def policy_for(self, component: str) -> LatePolicy:
        spec = next(c for c in self.components if c.name == component)
        return spec.late_policy or self.late_policy


@dataclass(frozen=True)
class ItemSpec:
    id: int
    name: str
    component: str
    max_points: Decimal
    due_at: datetime.datetime | None = None
    never_drop: bool = False
    published: bool = True


class ScoreSpec(NamedTuple):
    """One score of one student. A named tuple: a gradebook loads 60,000 of them."""

    item_id: int
    status: Status = Status.GRADED
    raw_points: Decimal | None = None
    submitted_at: datetime.datetime | None = None
    override_points: Decimal | None = None
    adjustment: Decimal = Decimal(0)  # per-member adjustment of a team score


class ItemResult(NamedTuple):
    """One item's result for one student. A named tuple: a gradebook makes 60,000 of them."""

    item: ItemSpec
    state: ItemState
    due_at: datetime.datetime | None  # the student's own, after any extension
    days_late: int
    raw_points: Decimal | None
    penalty: Decimal  # points taken for lateness
    earned: Decimal | None  # what counts: override, or raw + adjustment − penalty
    overridden: bool

    @property
    def possible(self) -> Decimal:
        return self.item.max_points


@dataclass(frozen=True)
class ComponentResult:
    spec: ComponentSpec
    items: tuple[ItemResult, ...]
    share: Decimal  # of the component's points
    earned: Decimal
    possible: Decimal

    @property
    def counted(self) -> bool:
        return self.possible > 0


@dataclass(frozen=True)
class Breakdown:
    scheme: SchemeSpec
    components: tuple[ComponentResult, ...]
    total: Decimal  # cut (not rounded) to KEPT_PLACES for display; banding uses the exact value
    rounded_total: Decimal
    letter: str
    only_published: bool

    @cached_property
    def item_results(self) -> dict[int, ItemResult]:
        """Every item's result, by item id."""
        return {r.item.id: r for c in self.components for r in c.items}

    def item(self, item_id: int) -> ItemResult:
        return self.item_results[item_id]


def own_due_at(item, extensions: Mapping[int, datetime.datetime]) -> datetime.datetime | None:
    """The student's due date for ``item`` (anything with ``id`` and ``due_at``): their extension
    (``extensions``: the student's extended due dates by item id), else the item's."""
    return extensions.get(item.id, item.due_at)


def days_late(submitted_at: datetime.datetime | None, due_at: datetime.datetime | None) -> int:
    """Started days late: one second late is one day."""
    if submitted_at is None or due_at is None or submitted_at <= due_at:
        return 0
    return math.ceil((submitted_at - due_at) / ONE_DAY)


def _item_result(
    item: ItemSpec,
    score: ScoreSpec | None,
    due_at: datetime.datetime | None,
    policy: LatePolicy,
    only_published: bool,
) -> ItemResult:
    """One item's result before drops. Decimal is exact here: points and percentages have few
    digits, and nothing is divided."""
    if only_published and not item.published:
        return ItemResult(item, ItemState.HIDDEN, due_at, 0, None, ZERO, None, False)
    if score is None:
        return ItemResult(item, ItemState.UNGRADED, due_at, 0, None, ZERO, None, False)
    raw = score.raw_points
    if score.status == Status.EXCUSED:
        return ItemResult(item, ItemState.EXCUSED, due_at, 0, raw, ZERO, None, False)
    if score.override_points is not None:
        earned = score.override_points
        return ItemResult(item, ItemState.COUNTED, due_at, 0, raw, ZERO, earned, True)
    late = days_late(score.submitted_at, due_at)
    if score.status == Status.MISSING or raw is None:
        return ItemResult(item, ItemState.COUNTED, due_at, late, raw, ZERO, ZERO, False)
    before = raw + score.adjustment if score.adjustment else raw
    if not ZERO <= before <= item.max_points:  # a team adjustment, or a maximum lowered later
        before = min(max(before, ZERO), item.max_points)
    if not late:
        return ItemResult(item, ItemState.COUNTED, due_at, 0, raw, ZERO, before, False)
    earned = before * policy.kept(late)
    return ItemResult(item, ItemState.COUNTED, due_at, late, raw, before - earned, earned, False)


def score_item(
    item: ItemSpec,
    score: ScoreSpec | None,
    due_at: datetime.datetime | None,
    policy: LatePolicy,
) -> ItemResult:
    """One item's result on its own (before any drop): what the score history records."""
    return _item_result(item, score, due_at, policy, only_published=False)


def _drop(results: list[ItemResult], n: int) -> set[int]:
    """Ids of the ``n`` counted, droppable items with the lowest percentage; one always stays.
    Of equal percentages the larger item goes first, then the earlier."""
    counted = [r for r in results if r.state == COUNTED]
    droppable = [r for r in counted if not r.item.never_drop]
    n = min(n, len(droppable), len(counted) - 1)
    if n <= 0:
        return set()
    # Each percentage as an integer over one common denominator: exact, and compared in C (a
    # sort of Fractions took a quarter of a 1,000-student gradebook).
    ratios = [
        (r.earned.as_integer_ratio(), r.item.max_points.as_integer_ratio()) for r in droppable
    ]
    common = math.lcm(*(b * c for (_, b), (c, _) in ratios))
    keys = [
        (a * d * (common // (b * c)), -r.item.max_points, position, r.item.id)
        for position, (r, ((a, b), (c, d))) in enumerate(zip(droppable, ratios, strict=True))
    ]
    return {key[-1] for key in heapq.nsmallest(n, keys)}


def component_result(
    spec: ComponentSpec,
    policy: LatePolicy,
    items: list[ItemSpec],
    scores: Mapping[int, ScoreSpec],
    due_dates: Mapping[int, datetime.datetime],
    only_published: bool,
    memos: list[dict] | None = None,
) -> tuple[ComponentResult, int, int]:
    """One component's result, and its share exactly, as the numerator and the denominator of a
    fraction (integers: a student's total adds five of them, and ``Fraction`` arithmetic, in
    Python, was a tenth of a gradebook's time).

    ``memos`` (one dict per item, kept by ``Breakdowns`` for a whole class) hold the results made
    so far: an item's result depends on its score and due date alone (the policy and
    ``only_published`` are the caller's), so one made for another student with the very same
    score and due date objects is that result. A gradebook's scores are shared objects
    (``selectors``), so a class of 1,000 makes a few thousand results, not 60,000."""
    if memos is None:
        memos = [{} for _ in items]
    results = []
    earned = possible = ZERO
    score_of = scores.get
    due_of = due_dates.get if due_dates else None
    for item, memo in zip(items, memos, strict=True):
        item_id = item.id
        score = score_of(item_id)
        due_at = due_of(item_id, item.due_at) if due_of else item.due_at
        # By identity, and the memo holds the score: an id is never reused while it is there.
        known = memo.get(id(score))
        if known is not None and known[0] is score and known[1] is due_at:
            result, counted = known[2], known[3]
        else:
            result = _item_result(item, score, due_at, policy, only_published)
            counted = result.state is COUNTED
            memo[id(score)] = (score, due_at, result, counted)
        results.append(result)
        if counted:
            earned += result.earned
            possible += item.max_points
    dropped = _drop(results, spec.drop_lowest) if spec.drop_lowest else None
    if dropped:
        earned = possible = ZERO
        for pos, result in enumerate(results):
            if result.item.id in dropped:
                results[pos] = result._replace(state=ItemState.DROPPED)
            elif result.state == COUNTED:
                earned += result.earned
                possible += result.possible
    if not possible:
        return ComponentResult(spec, tuple(results), ZERO, earned, possible), 0, 1
    # The one division: exact as a fraction, so 30 × 2/3 is 20 and not 19.999…
    numerator, denominator = exact_ratio_terms(earned, possible, spec.points)
    share = _cut_terms(numerator, denominator, KEPT_PLACES)
    return ComponentResult(spec, tuple(results), share, earned, possible), numerator, denominator


def exact_fraction(value: Decimal) -> Fraction:
    """``value`` as an exact fraction, by the integer constructor (``Fraction(Decimal)`` takes
    several times as long: a gradebook makes tens of thousands of these)."""
    numerator, denominator = value.as_integer_ratio()
    return Fraction(numerator, denominator)


def exact_ratio(numerator: Decimal, denominator: Decimal, times: Decimal = ONE) -> Fraction:
    """``times × numerator / denominator`` exactly, in integers and one ``Fraction`` (no Decimal
    product, which would round past 28 digits)."""
    return Fraction(*exact_ratio_terms(numerator, denominator, times))


def exact_ratio_terms(
    numerator: Decimal, denominator: Decimal, times: Decimal = ONE
) -> tuple[int, int]:
    """``exact_ratio`` as the numerator and the (positive) denominator, not reduced."""
    a, b = numerator.as_integer_ratio()
    c, d = denominator.as_integer_ratio()
    e, f = times.as_integer_ratio()
    if c < 0:
        a, c = -a, -c
    return e * a * d, f * b * c


def letter_for(rounded_total: Fraction, cutoffs: Iterable[Cutoff]) -> str:
    cutoffs = tuple(cutoffs)
    for cutoff in cutoffs:
        if rounded_total >= exact_fraction(cutoff.min_points):
            return cutoff.letter
    return cutoffs[-1].letter


def round_total(total: Fraction, rounding: Rounding) -> Fraction:
    if rounding == Rounding.HALF_UP:
        return Fraction(math.floor(total + Fraction(1, 2)))
    return total


def _cut(value: Decimal | Fraction, places: int) -> Decimal:
    """``value`` cut down to ``places`` decimals (toward −∞: never above ``value``), exactly, and
    without trailing zeros.

    Why cut and not round: every band edge is a multiple of ``10**-places`` (a whole point, a
    half-up edge at x.5, a cutoff with at most ``SHOWN_PLACES`` decimals), and cutting down keeps
    a number on the same side of every such edge, where rounding 75.4999995 to 75.5 would cross
    one. So a shown total rounds half-up to the rounded total beside it, and reaches a cutoff
    exactly when the exact total does.
    """
    if isinstance(value, Fraction):
        return _cut_terms(value.numerator, value.denominator, places)
    return _cut_terms(*value.as_integer_ratio(), places)


def _cut_terms(numerator: int, denominator: int, places: int) -> Decimal:
    """``_cut`` of ``numerator / denominator`` (``denominator`` > 0), in integers alone."""
    scale = 10**places
    cut = numerator * scale // denominator  # floor: toward −∞
    if cut % scale == 0:
        return Decimal(cut // scale)
    return Decimal(cut).scaleb(-places).normalize()


def kept_decimal(value: Fraction) -> Decimal:
    """A share or a total as the breakdown keeps it: cut to ``KEPT_PLACES`` decimals."""
    return _cut(value, KEPT_PLACES)


def shown(value: Decimal | Fraction | int | float | str, places: int = SHOWN_PLACES) -> str:
    """Points as every page, the CSV and the API show them: cut to ``places`` decimals (never
    rounded up, see ``_cut``) and written plainly, ``8``, ``7.5``, ``75.49``."""
    if type(value) is Decimal and 10**places % value.as_integer_ratio()[1] == 0:
        return plain(value)  # nothing to cut (a share the breakdown kept, a CSV's 60,000th call)
    if isinstance(value, float):  # as written (0.3), not as stored in binary (0.2999…)
        value = repr(value)
    exact = value if isinstance(value, Fraction | Decimal) else Decimal(value)
    return plain(_cut(exact, places))


@lru_cache(maxsize=4096)
def plain(value: Decimal) -> str:
    """A number as people write it: ``8`` for 8.000, ``6.4`` for 6.40, never ``1E+1``.

    Cached: a gradebook writes the same few points (0, 7.5, 10) tens of thousands of times. Equal
    decimals (8 and 8.000) share an entry, and are written the same anyway."""
    return format(value.normalize(), "f") if value else "0"
