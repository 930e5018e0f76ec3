"""Reads whose SQL Django compiles once per process: later calls only bind new values.

On exam day a whole class sends the same few requests at once, and most of each one's CPU went to
Django building its queries and compiling their SQL, not to the database (issue 19,
``bench/request_cpu.py --profile``). A ``prepared`` read is a function of a few plain values (pks,
slugs, numbers) that returns a QuerySet; calling it gives that QuerySet's rows, as a list. Its
first call builds the QuerySet with a stand-in for each value, compiles it, and notes where each
stand-in lands among the statement's parameters; every call then runs that same SQL with its own
values there, through Django's own iteration (model instances, ``select_related``, annotations,
``values_list``, the backend's converters), so it answers what the QuerySet itself would.

Only ``int`` and ``str`` values, which Django passes to the database as they are (values of
another type are read the ORM's own way); a read whose stand-ins do not all reach the parameters
is refused when it is first compiled (a programming error), and so is one Django would answer
without asking the database (an empty ``IN``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

# In every integer field's range (Django finds nothing, without asking, for a value outside it).
_STAND_INS = {
    int: lambda n: 30_011 + 97 * n,
    str: lambda n: f"\x00prepared stand-in {n}\x00",
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


class Prepared:
    """``build(*values) -> QuerySet``, compiled once per process (see the module): the site uses one
    database, whose backend compiles it."""

    def __init__(self, build: Callable[..., QuerySet], types: tuple[type, ...]):
        self.build, self.types = build, types
        self._shape: _Shape | None = None

    def __call__(self, *values) -> list:
        """The rows of ``build(*values)``, as a list: evaluated here, so that nothing chains a
        filter onto a QuerySet whose SQL is fixed."""
        if len(values) != len(self.types) or any(
            type(v) is not t for v, t in zip(values, self.types, strict=True)
        ):
            return list(self.build(*values))  # not what was prepared: Django's own way
        shape = self._shape or self._compile()
        params = list(shape.params)
        for value, positions in zip(values, shape.where, strict=True):
            for position, wrap in positions:
                params[position] = value if wrap is type(value) else wrap(value)
        return list(_bound(shape, tuple(params)))

    def _compile(self) -> _Shape:
        stand_ins = [_STAND_INS[t](n) for n, t in enumerate(self.types)]
        queryset = self.build(*stand_ins)
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        # A backend may wrap a value in a subclass of its type (psycopg's Int2 for a small
        # integer field): each later value is wrapped the same way.
        where = tuple(
            tuple((i, type(p)) for i, p in enumerate(params) if isinstance(p, type(s)) and p == s)
            for s in stand_ins
        )
        if not all(where):
            raise ValueError(f"{self.build.__qualname__}: a value does not reach the SQL as is")
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
        )
        self._shape = shape  # two threads compiling at once compile alike: either one is kept
        return shape


def _bound(shape: _Shape, params: tuple) -> QuerySet:
    """A fresh, unevaluated copy of the prepared QuerySet whose compiler gives the prepared SQL
    with ``params`` and what compiling it found (its columns and how rows become objects)."""
    query = copy.copy(shape.queryset.query)

    def get_compiler(using=None, connection=None, elide_empty=True):
        compiler = query.__class__.get_compiler(query, using, connection, elide_empty)
        compiler.select, compiler.klass_info = shape.select, shape.klass_info
        compiler.annotation_col_map = shape.annotation_col_map
        compiler.col_count, compiler.has_extra_select = shape.col_count, shape.has_extra_select
        compiler.as_sql = lambda *args, **kwargs: (shape.sql, params)
        return compiler

    query.get_compiler = get_compiler
    # Not copy.copy: a QuerySet copies as it pickles, by running its query.
    queryset = object.__new__(type(shape.queryset))
    queryset.__dict__.update(shape.queryset.__dict__)
    queryset._query = query  # not through the setter, which would change a values_list's rows
    queryset._result_cache = None
    queryset._prefetch_done = False
    return queryset


def one_or_none(found: list):
    """The one row of a prepared read by a unique key, or None."""
    return found[0] if found else None


def prepared(*types: type) -> Callable[[Callable[..., QuerySet]], Prepared]:
    """Decorate ``build(*values) -> QuerySet`` taking values of ``types`` (``int``, ``str``)."""

    def decorator(build: Callable[..., QuerySet]) -> Prepared:
        return Prepared(build, types)

    return decorator


__all__ = ["Prepared", "one_or_none", "prepared"]
