"""Declarative base with a constraint naming convention, and small column helpers."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime

import sqlalchemy as sa
from flask_sqlalchemy.session import Session as _FsaSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.expression import FunctionElement
from werkzeug.routing import IntegerConverter

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


#: the largest row id a URL may name: the range of an INTEGER key (BIGINT keys start
#: at 1 as well and are far below it at national scale); a larger number is not found
ROW_ID_MAX = 2**31 - 1


class RowIdConverter(IntegerConverter):
    """``<int:…>`` in every URL: 0 … :data:`ROW_ID_MAX`, anything else answers 404.

    A number beyond a key's range would otherwise reach the database (PostgreSQL casts
    the parameter to the column's type and fails, SQLite overflows) and answer 500.
    """

    def __init__(self, map, *args, **kwargs):  # noqa: A002  (werkzeug's argument name)
        kwargs.setdefault("max", ROW_ID_MAX)
        super().__init__(map, *args, **kwargs)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite has no time zone support, so values are normalised to UTC on the way in
    and marked as UTC on the way out.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class CreatedAtMixin:
    #: when the row was created (UTC)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


@sa.event.listens_for(sa.engine.Engine, "connect")
def _sqlite_pragmas(dbapi_conn, record) -> None:
    """SQLite (the embedded default): enforce foreign keys; WAL so readers never block writers."""
    import sqlite3

    if isinstance(dbapi_conn, sqlite3.Connection):
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()


class UpdatedAtMixin:
    #: when the row was last changed (UTC)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class bytewise(FunctionElement):  # noqa: N801 (an SQL expression)
    """A text column compared byte by byte: ``col COLLATE "C"`` on PostgreSQL; on SQLite
    the column itself (SQLite compares bytes by default). For keys without a language order
    (mobiles, digests) whose index is built ``COLLATE "C"``: a comparison reads such an
    index only under the same collation."""

    type = sa.String()
    inherit_cache = True


@compiles(bytewise)
def _bytewise_pg(element, compiler, **kw):
    return f'({compiler.process(list(element.clauses)[0], **kw)} COLLATE "C")'


@compiles(bytewise, "sqlite")
def _bytewise_sqlite(element, compiler, **kw):
    return compiler.process(list(element.clauses)[0], **kw)


def insert(table: sa.Table):
    """``INSERT`` into ``table`` in the dialect of the session's database, so that
    ``on_conflict_do_nothing`` (PostgreSQL and SQLite both have it) is at hand."""

    from clubplatform.extensions import db

    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(table)


def sql_in(column: str, values: tuple[str, ...]) -> str:
    """SQL text ``column IN ('a', 'b')`` for CHECK constraints over a fixed set of codes."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


# ------------------------------------------------------------------ read-replica routing
# With DATABASE_REPLICA_URL set (the "replica" bind), reads inside ``read_replica()`` go to
# the PostgreSQL streaming replica; everything else, and every write, goes to the primary.
_use_replica: ContextVar[bool] = ContextVar("use_read_replica", default=False)


@contextlib.contextmanager
def read_replica() -> Iterator[None]:
    """Send the enclosed reads to the read replica (a no-op when none is configured).

    Use it for dashboards and reports that may lag the primary by a moment, as a
    ``with read_replica():`` block or as a decorator ``@read_replica()``. A write inside
    still goes to the primary (flushes and INSERT/UPDATE/DELETE statements are never
    routed); raw SQL that writes is refused by the replica, so it fails loudly.
    """
    token = _use_replica.set(True)
    try:
        yield
    finally:
        _use_replica.reset(token)


def replica_active() -> bool:
    """True inside :func:`read_replica` (whether or not a replica is configured)."""
    return _use_replica.get()


class RoutingSession(_FsaSession):
    """Flask-SQLAlchemy's session, sending reads to the replica inside ``read_replica()``."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and _use_replica.get() and not self._flushing:
            engine = self._db.engines.get("replica")
            if engine is not None and not isinstance(clause, sa.sql.dml.UpdateBase):
                return engine
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)
