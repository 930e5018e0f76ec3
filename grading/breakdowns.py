"""A student's breakdown: every component's result (``computation.component_result``), their
total, rounded and banded to a letter.

``Breakdowns`` does it for a whole class of one scheme and one list of items, with what depends on
those alone worked out once; ``compute_breakdown`` is one student's. The rules themselves are in
``grading.computation``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from fractions import Fraction

from grading.computation import (
    Breakdown,
    ItemSpec,
    SchemeSpec,
    ScoreSpec,
    component_result,
    kept_decimal,
    round_total,
)


def compute_breakdown(
    scheme: SchemeSpec,
    items: Iterable[ItemSpec],
    scores: Mapping[int, ScoreSpec],
    due_dates: Mapping[int, datetime.datetime] | None = None,
    *,
    only_published: bool = False,
) -> Breakdown:
    """One student's breakdown.

    ``scores`` and ``due_dates`` are that student's, keyed by item id; ``due_dates`` holds only the
    items with an extension. ``only_published`` is the student's own view: unpublished items are
    hidden and count for nothing.
    """
    return Breakdowns(scheme, items, only_published=only_published)(scores, due_dates)


class Breakdowns:
    """``compute_breakdown`` for many students of one scheme and one list of items: what depends
    on those alone (the items by component, each component's late policy, the cutoffs as
    fractions) is worked out once, not once per student."""

    def __init__(
        self, scheme: SchemeSpec, items: Iterable[ItemSpec], *, only_published: bool = False
    ):
        by_component: dict[str, list[ItemSpec]] = {c.name: [] for c in scheme.components}
        for item in items:
            # An item of a component this scheme version lacks (one added after a release)
            # counts in the versions that have it, not here.
            if item.component in by_component:
                by_component[item.component].append(item)
        self.scheme = scheme
        self.only_published = only_published
        # Each item's results made so far, for every student after the first (``component_result``).
        self.components = [
            (spec, policy, by_component[spec.name], [{} for _ in by_component[spec.name]])
            for spec, policy in zip(scheme.components, scheme.policies, strict=True)
        ]

    def __call__(
        self,
        scores: Mapping[int, ScoreSpec],
        due_dates: Mapping[int, datetime.datetime] | None = None,
    ) -> Breakdown:
        due_dates = due_dates or {}
        components, numerator, denominator = [], 0, 1
        for spec, policy, items, memos in self.components:
            result, n, d = component_result(
                spec, policy, items, scores, due_dates, self.only_published, memos
            )
            components.append(result)
            numerator, denominator = numerator * d + n * denominator, denominator * d
        total = Fraction(numerator, denominator)  # one Fraction per student: the sum is in integers
        scheme = self.scheme
        rounded = round_total(total, scheme.rounding)
        letter = next(
            (letter for bound, letter in scheme.cutoff_bounds if rounded >= bound),
            scheme.cutoffs[-1].letter,
        )
        return Breakdown(
            scheme=scheme,
            components=tuple(components),
            total=kept_decimal(total),
            rounded_total=kept_decimal(rounded),
            letter=letter,
            only_published=self.only_published,
        )
