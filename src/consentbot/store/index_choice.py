"""Steering SQLite's planner away from an index, where its guess without statistics is wrong.

SQLite documents a unary ``+`` before a column as the way to stop a term being served by
an index (https://sqlite.org/optoverview.html, "Disqualifying WHERE clause terms"). It
has no effect on the value, but PostgreSQL has no unary ``+`` for dates and times, and its
planner reads statistics instead: there the column is left as it is.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped
from sqlalchemy.sql import coercions, roles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeEngine


class NotFromIndex(ColumnElement[Any]):
    """``column`` as a value SQLite will not look up in an index (``+column``)."""

    inherit_cache = True
    # What SQLAlchemy's statement cache keys on; declared by SQLAlchemy as an attribute.
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]  # noqa: RUF012

    def __init__(self, column: ColumnElement[Any] | Mapped[Any]) -> None:
        self.column: ColumnElement[Any] = coercions.expect(roles.ExpressionElementRole, column)
        self.type: TypeEngine[Any] = self.column.type

    def get_children(self, **kw: Any) -> tuple[ColumnElement[Any]]:
        return (self.column,)


@compiles(NotFromIndex)
def _plain(element: NotFromIndex, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column, **kw)


@compiles(NotFromIndex, "sqlite")
def _sqlite(element: NotFromIndex, compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + compiler.process(element.column, **kw)
