"""Prepared statements for the hot path: a dialog turn runs a handful of statements, and pushing
each through SQLAlchemy's execution machinery costs about 18 µs against 1 µs for SQLite itself.

A ``Prepared`` is a SQLAlchemy Core statement compiled once per dialect by SQLAlchemy itself: the
SQL text (with PostgreSQL's casts, ``FOR UPDATE OF``, ``RETURNING``), the order of its parameters
and SQLAlchemy's own type processors (UTC datetimes, JSON, enums) for every parameter and result
column. Running it hands the processed parameters straight to the driver's cursor on the unit of
work's connection, inside the connection's transaction (begun first, so SQLite's ``BEGIN
IMMEDIATE`` still comes first), and driver errors come back as SQLAlchemy's own exceptions, with
parameters hidden. What is stored is byte for byte what SQLAlchemy would have stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    positional: tuple[str, ...] | None  # parameter names in order (qmark), or None (named)
    defaults: Mapping[str, Any]  # every parameter, with the values given in the statement
    required: frozenset[str]  # parameters without a value in the statement: the caller's to give
    binds: tuple[tuple[str, Callable[[Any], Any]], ...]  # parameters that need processing
    results: tuple[Processor, ...]  # one per result column
    result_names: tuple[str, ...]


class Prepared:
    """A Core statement run on the driver directly; see the module's docstring."""

    __slots__ = ("_by_dialect", "_column_keys", "statement")

    def __init__(
        self, statement: sa.ClauseElement, *, column_keys: Sequence[str] | None = None
    ) -> None:
        self.statement = statement
        self._column_keys = list(column_keys) if column_keys is not None else None
        self._by_dialect: dict[str, _Compiled] = {}

    def run(self, connection: Connection, params: Mapping[str, Any]) -> Result:
        compiled = self._by_dialect.get(connection.dialect.name)
        if compiled is None:
            compiled = self._by_dialect[connection.dialect.name] = self._compile(connection.dialect)
        if not compiled.required <= params.keys():
            missing = sorted(compiled.required - params.keys())
            raise sa.exc.InvalidRequestError(f"a value is required for parameters {missing}")
        values = {**compiled.defaults, **params}
        for name, process in compiled.binds:
            values[name] = process(values[name])
        driver_params: Sequence[Any] | Mapping[str, Any] = (
            values if compiled.positional is None else [values[n] for n in compiled.positional]
        )
        if not connection.in_transaction():
            connection.begin()  # SQLite: BEGIN IMMEDIATE, as for any other statement
        cursor = connection.connection.cursor()
        try:
            cursor.execute(compiled.sql, driver_params)
        except connection.dialect.loaded_dbapi.Error as error:
            dialect = connection.dialect
            lost = dialect.is_disconnect(error, connection.connection.dbapi_connection, cursor)
            cursor.close()
            if lost:  # as SQLAlchemy does: this connection is not given back to the pool
                connection.invalidate(error)
            raise sa.exc.DBAPIError.instance(
                compiled.sql,
                None,
                error,
                dialect.loaded_dbapi.Error,
                hide_parameters=True,
                connection_invalidated=lost,
                dialect=dialect,
            ) from error
        return Result(cursor, compiled)

    def write(self, connection: Connection, params: Mapping[str, Any]) -> int:
        """Run a statement that returns no rows; how many rows it changed."""
        return self.run(connection, params).rowcount

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect, column_keys=self._column_keys)
        if not isinstance(compiled, SQLCompiler):  # pragma: no cover - DDL is never prepared
            raise TypeError("only SQL statements can be prepared")
        if compiled.escaped_bind_names or any(b.expanding for b in compiled.binds.values()):
            raise ValueError("prepared statements take plain parameter names and no IN lists")
        defaults = dict(compiled.params)
        binds = []
        for name in defaults:
            process = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                binds.append((name, process))
        columns = _result_columns(self.statement)
        return _Compiled(
            sql=compiled.string,
            positional=tuple(compiled.positiontup or ()) if compiled.positional else None,
            defaults=defaults,
            required=frozenset(name for name, bind in compiled.binds.items() if bind.required),
            binds=tuple(binds),
            results=tuple(
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in columns
            ),
            result_names=tuple(str(column.key) for column in columns),
        )


def _result_columns(statement: sa.ClauseElement) -> list[sa.ColumnElement[Any]]:
    """What a SELECT selects, or what an INSERT/UPDATE returns."""
    if isinstance(statement, sa.Select | sa.Insert | sa.Update | sa.Delete):
        return list(statement.exported_columns)
    return []


class Result:
    """The rows of a prepared statement, processed as SQLAlchemy would."""

    __slots__ = ("_compiled", "cursor")

    def __init__(self, cursor: Any, compiled: _Compiled) -> None:
        self.cursor = cursor
        self._compiled = compiled

    @property
    def rowcount(self) -> int:
        count = int(self.cursor.rowcount)
        self.cursor.close()
        return count

    def first(self) -> dict[str, Any] | None:
        """The first row as a dict of column keys (the rest are dropped)."""
        row = self.cursor.fetchone()
        self.cursor.close()
        return None if row is None else self._mapping(row)

    def all(self) -> list[dict[str, Any]]:
        """Every row, as dicts of column keys."""
        try:
            return [self._mapping(row) for row in self.cursor.fetchall()]
        finally:
            self.cursor.close()

    def scalar(self) -> Any:
        """The first column of the first row, or None."""
        row = self.cursor.fetchone()
        self.cursor.close()
        if row is None:
            return None
        process = self._compiled.results[0]
        return row[0] if process is None else process(row[0])

    def scalars(self) -> Iterator[Any]:
        process = self._compiled.results[0]
        try:
            for row in self.cursor.fetchall():
                yield row[0] if process is None else process(row[0])
        finally:
            self.cursor.close()

    def _mapping(self, row: Sequence[Any]) -> dict[str, Any]:
        compiled = self._compiled
        return {
            name: value if process is None else process(value)
            for name, process, value in zip(
                compiled.result_names, compiled.results, row, strict=True
            )
        }
