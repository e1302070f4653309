"""Many rows into one table through the driver's own `executemany`, skipping exact repeats.

For a batch of small rows SQLAlchemy's per-row parameter handling costs several times what the
database spends storing them. Here each value is still encoded by its column's type, exactly as
SQLAlchemy would store it (the same text for a time on SQLite, UTC everywhere), but in one plain
loop, and the statement is written once per dialect.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.engine import Dialect

Encoder = Callable[[Any], Any] | None


class PlainInsert:
    """`INSERT ... ON CONFLICT (key) DO NOTHING`, the same on SQLite and PostgreSQL."""

    def __init__(self, table: Table, key: Sequence[str]) -> None:
        self._table = table
        self._columns = tuple(table.columns.keys())
        self._key = tuple(key)
        self._prepared: dict[str, tuple[str, list[Encoder]]] = {}

    def _prepare(self, dialect: Dialect) -> tuple[str, list[Encoder]]:
        prepared = self._prepared.get(dialect.name)
        if prepared is None:
            mark = "?" if dialect.paramstyle == "qmark" else "%s"
            sql = (
                f"INSERT INTO {self._table.name} ({', '.join(self._columns)}) "  # noqa: S608 - names from the model
                f"VALUES ({', '.join([mark] * len(self._columns))}) "
                f"ON CONFLICT ({', '.join(self._key)}) DO NOTHING"
            )
            # dialect_impl: the type as this dialect stores it (a time as SQLite's text, say).
            encoders: list[Encoder] = [
                self._table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
                for name in self._columns
            ]
            prepared = self._prepared[dialect.name] = (sql, encoders)
        return prepared

    def execute(
        self,
        connection: Connection,
        rows: Sequence[Mapping[str, Any]],
        shared: Mapping[str, Any] | None = None,
    ) -> None:
        """Insert `rows`; each gives a value for every column not in `shared`, whose values all
        rows have (encoded once, not once per row)."""
        sql, encoders = self._prepare(connection.dialect)
        shared = shared or {}
        template: list[Any] = []
        varying: list[tuple[int, str, Encoder]] = []
        for position, (name, encode) in enumerate(zip(self._columns, encoders, strict=True)):
            if name in shared:
                template.append(encode(shared[name]) if encode else shared[name])
            else:
                template.append(None)
                varying.append((position, name, encode))
        encoded = []
        for row in rows:
            values = template.copy()
            for position, name, encode in varying:
                values[position] = encode(row[name]) if encode else row[name]
            encoded.append(tuple(values))
        connection.exec_driver_sql(sql, encoded)
