"""Reads whose SQL Django compiles once per process: later calls only bind new values.

On exam day a whole class sends the same few requests at once, and most of each one's CPU went to
Django building its queries and compiling their SQL, not to the database (issue 19,
``bench/request_cpu.py --profile``). A ``prepared`` read is a function of a few plain values (pks,
slugs, numbers) that returns a QuerySet. Its first call builds that QuerySet with a stand-in for
each value, compiles it, and notes where each stand-in lands among the statement's parameters;
every call then runs that same SQL with its own values there, through Django's own iteration
(model instances, ``select_related``, annotations, ``values_list``, the backend's converters), so
it answers what the QuerySet itself would. Only ``int`` and ``str`` values, which Django passes to
the database as they are; a read whose stand-ins do not all reach the parameters is refused when
it is first compiled (a programming error), and one that returns nothing (Django's empty ``IN``)
is never prepared. An int that Django answers without asking (past its field's range) is read
Django's own way, and so is anything made of the QuerySet a read returns (``filter``, ``count``, a
slice, ``get``, ``update``, a pickle): only the QuerySet as built runs the prepared SQL.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import DatabaseError, transaction
from django.db.models import QuerySet
from django.db.transaction import TransactionManagementError

log = logging.getLogger(__name__)

# In every integer field's range (Django finds nothing, without asking, for a value outside it).
# A value outside the range of the fields it is compared with is read Django's own way (its
# answer, not a database error: SQLite cannot bind an integer past 64 bits): ``_Shape.ranges``.
_STAND_INS = {
    int: lambda n: 30_011 + 97 * n,
    str: lambda n: f"\x00prepared stand-in {n}\x00",
}
# A second set: compiled with both, a read must give the same SQL with each value in the same
# places, or a constant of the read that equals a stand-in would be taken for the value. In a small
# integer's range too, like the first (PostgreSQL's smallint ends at 32,767).
_OTHER_STAND_INS = {
    int: lambda n: 21_017 + 89 * n,
    str: lambda n: f"\x00other stand-in {n}\x00",
}


@dataclass(frozen=True)
class _Shape:
    queryset: QuerySet
    sql: str
    params: tuple
    where: tuple[tuple[tuple[int, type], ...], ...]  # each value's places among the parameters
    select: Any
    klass_info: Any
    annotation_col_map: Any
    col_count: int
    has_extra_select: bool
    ranges: tuple[tuple[int | None, int | None], ...]  # each int value's, where Django asks


class Prepared:
    """``build(*values) -> QuerySet``, compiled once per process (see the module): the site uses one
    database, whose backend compiles it."""

    def __init__(self, build: Callable[..., QuerySet], types: tuple[type, ...]):
        self.build, self.types = build, types
        self._shape: _Shape | None = None
        _ALL.append(self)

    def __call__(self, *values) -> QuerySet:
        """The QuerySet ``build(*values)`` would give, unevaluated, compiled already."""
        if len(values) != len(self.types) or any(
            type(v) is not t for v, t in zip(values, self.types, strict=True)
        ):
            return self.build(*values)  # not what was prepared: Django's own way
        try:
            shape = self._shape or self._compile()
        except EmptyResultSet:  # Django answers it without asking: nothing to prepare
            return self.build(*values)
        if not all(_within(v, r) for v, r in zip(values, shape.ranges, strict=True)):
            return self.build(*values)  # Django answers it without asking the database
        params = list(shape.params)
        for value, positions in zip(values, shape.where, strict=True):
            for position, wrap in positions:
                params[position] = value if wrap is type(value) else wrap(value)
        return _bound(shape, tuple(params), lambda: self.build(*values))

    def _compile(self) -> _Shape:
        stand_ins = [_STAND_INS[t](n) for n, t in enumerate(self.types)]
        queryset = self.build(*stand_ins)
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        where = _places(stand_ins, params)
        if not all(where):
            raise ValueError(f"{self.build.__qualname__}: a value does not reach the SQL as is")
        others = [_OTHER_STAND_INS[t](n) for n, t in enumerate(self.types)]
        other = self.build(*others)
        try:
            other_sql, other_params = other.query.get_compiler(using=other.db).as_sql()
        except EmptyResultSet:  # not to be read Django's own way on every call, unnoticed
            raise ValueError(
                f"{self.build.__qualname__}: a second stand-in is outside a field's range"
            ) from None
        if other_sql != sql or _places(others, other_params) != where:
            raise ValueError(
                f"{self.build.__qualname__}: its SQL or its values' places change with the "
                "values (a constant equal to a stand-in, or a value outside the parameters)"
            )
        shape = _Shape(
            queryset=queryset,
            sql=sql,
            params=tuple(params),
            where=where,
            select=compiler.select,
            klass_info=compiler.klass_info,
            annotation_col_map=compiler.annotation_col_map,
            col_count=compiler.col_count,
            has_extra_select=compiler.has_extra_select,
            ranges=tuple(self._range(n, stand_ins, sql) for n in range(len(stand_ins))),
        )
        self._shape = shape  # two threads compiling at once compile alike: either one is kept
        return shape

    def _range(self, n: int, stand_ins: list, sql: str) -> tuple[int | None, int | None]:
        """Where value ``n`` (an int) compiles to the same SQL: Django answers a value outside
        an integer field's range without asking (nothing), whatever the database would say."""
        if not isinstance(stand_ins[n], int):
            return None, None

        def same(value: int) -> bool:
            try:
                built = self.build(*stand_ins[:n], value, *stand_ins[n + 1 :])
                return built.query.get_compiler(using=built.db).as_sql()[0] == sql
            except EmptyResultSet:
                return False

        high = next((h for h in _HIGHS if not same(h + 1)), None)
        low = next((lo for lo in _LOWS if not same(lo - 1)), None)
        return low, high


def _places(stand_ins: list, params) -> tuple[tuple[tuple[int, type], ...], ...]:
    """Where each stand-in lands among ``params``, with the type it lands as: a backend may wrap
    a value in a subclass of its type (psycopg's Int2 for a small integer field), and each later
    value is wrapped the same way."""
    return tuple(
        tuple((i, type(p)) for i, p in enumerate(params) if isinstance(p, type(s)) and p == s)
        for s in stand_ins
    )


# The bounds of the integer fields' ranges (``connection.ops.integer_field_ranges``).
_HIGHS = (2**15 - 1, 2**31 - 1, 2**63 - 1)
_LOWS = (0, -(2**15), -(2**31), -(2**63))


def _within(value, bounds: tuple[int | None, int | None]) -> bool:
    low, high = bounds
    return (low is None or value >= low) and (high is None or value <= high)


def _bound(shape: _Shape, params: tuple, real: Callable[[], QuerySet]) -> QuerySet:
    """A fresh, unevaluated copy of the prepared QuerySet whose compiler gives the prepared SQL
    with ``params`` and what compiling it found (its columns and how rows become objects).
    Anything else made of its query (``filter``, ``count``, ``update``, a slice, ``get``, a
    pickle, a copy) is made of ``real()``'s, the QuerySet built with the values: the prepared
    SQL answers only the QuerySet as it was built."""
    query = copy.copy(shape.queryset.query)

    def get_compiler(using=None, connection=None, elide_empty=True):
        compiler = query.__class__.get_compiler(query, using, connection, elide_empty)
        compiler.select, compiler.klass_info = shape.select, shape.klass_info
        compiler.annotation_col_map = shape.annotation_col_map
        compiler.col_count, compiler.has_extra_select = shape.col_count, shape.has_extra_select

        def as_sql(*args, **kwargs):
            # Django's own check, which compiling did: a lock in autocommit is released at once.
            features = compiler.connection.features
            if (
                query.select_for_update
                and features.has_select_for_update
                and features.supports_transactions
                and compiler.connection.get_autocommit()
            ):
                raise TransactionManagementError(
                    "select_for_update cannot be used outside of a transaction."
                )
            return shape.sql, params

        compiler.as_sql = as_sql
        return compiler

    query.get_compiler = get_compiler
    query.clone = lambda: real().query.clone()
    query.__reduce_ex__ = lambda protocol: real().query.__reduce_ex__(protocol)
    # Not copy.copy: a QuerySet copies as it pickles, by running its query.
    queryset = object.__new__(type(shape.queryset))
    queryset.__dict__.update(shape.queryset.__dict__)
    queryset._query = query  # not through the setter, which would change a values_list's rows
    queryset._result_cache = None
    queryset._prefetch_done = False
    return queryset


_ALL: list[Prepared] = []  # every prepared read of the modules imported so far


def compile_all() -> int:
    """Compile every prepared read imported so far; how many. The web's preload does it
    (``courseapp/config/wsgi.py``), before the workers fork: otherwise each worker's first
    requests of each kind compile them (a few compiles each), all at the moment a class starts.
    In a transaction, as a locking read compiles only in one (Django's check). If the database
    does not answer, what compiles without it is compiled and the rest is left to its first call;
    a read refused as a programming error stops the start, as it would fail its first call."""
    try:
        with transaction.atomic():
            return _compile_pending()
    except DatabaseError as exc:
        log.warning("Exam day's reads are compiled without the database (%s)", exc)
        return _compile_pending()


def _compile_pending() -> int:
    compiled = 0
    for read in _ALL:
        if read._shape is not None:
            continue
        try:
            read._compile()
        except (EmptyResultSet, DatabaseError):  # left to its first call
            continue
        compiled += 1
    return compiled


def one_or_none(queryset: QuerySet):
    """The one row of a prepared read by a unique key, or None."""
    found = list(queryset)
    return found[0] if found else None


def prepared(*types: type) -> Callable[[Callable[..., QuerySet]], Prepared]:
    """Decorate ``build(*values) -> QuerySet`` taking values of ``types`` (``int``, ``str``)."""

    def decorator(build: Callable[..., QuerySet]) -> Prepared:
        return Prepared(build, types)

    return decorator


__all__ = ["Prepared", "compile_all", "one_or_none", "prepared"]
