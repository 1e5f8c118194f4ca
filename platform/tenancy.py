"""Tenant scoping in one place.

Every chapter-owned model mixes in :class:`TenantScoped`. While a request or a job
runs, the current scope is one of:

- a chapter id: every ORM SELECT/UPDATE/DELETE touching a tenant-scoped model is
  filtered to that chapter (``with_loader_criteria``), and inserts get the chapter
  filled in (a different chapter is refused);
- ``ALL``: HQ code that reads across chapters, opened only by :func:`unscoped`
  with a reason, so that every such place can be found with ``grep unscoped(``;
- nothing: any ORM statement touching a tenant-scoped model raises
  :class:`ScopeMissing` (fail closed).

Core and ``text()`` SQL is not filtered: code using it adds the predicate itself.
``session.get()`` may answer from the identity map without SQL, so a session never
mixes tenants: jobs and CLI commands start each chapter with a fresh session.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column, with_loader_criteria

log = logging.getLogger(__name__)


class _AllChapters:
    def __repr__(self) -> str:
        return "ALL"


ALL = _AllChapters()

_scope: ContextVar[object] = ContextVar("chapter_scope", default=None)
_reason: ContextVar[str | None] = ContextVar("unscoped_reason", default=None)


class ScopeMissing(RuntimeError):
    """A tenant-scoped model was queried with no chapter scope open."""


class ScopeViolation(RuntimeError):
    """A row of one chapter was written while another chapter's scope was open."""


class ChapterFiltered:
    """Marker for models whose reads are filtered to the scope's chapter.

    :class:`TenantScoped` rows belong to a chapter for ever; :class:`HomeChapter`
    rows (the member) carry the chapter they belong to *now*, which an audited
    transfer changes (inside :func:`unscoped`).
    """

    @declared_attr
    def chapter_id(cls) -> Mapped[int]:  # noqa: N805
        #: the chapter (tenant) of this row
        return mapped_column(
            sa.ForeignKey("chapters.id", ondelete="RESTRICT"), nullable=False, index=True
        )


class TenantScoped(ChapterFiltered):
    """Mixin for every chapter-owned model: ``chapter_id NOT NULL``, indexed, for ever."""


class HomeChapter(ChapterFiltered):
    """Mixin for central records that follow a person: ``chapter_id`` is the current chapter.

    Keyed by their own id (distributed by ``member_id``), so their unique keys need
    not lead with ``chapter_id``; reads are still filtered to the scope's chapter.
    """


def current_scope() -> object:
    """Return the open scope: a chapter id, :data:`ALL`, or ``None``."""
    return _scope.get()


def current_chapter_id() -> int | None:
    """Return the chapter id of the open scope, or ``None`` for HQ or no scope."""
    scope = _scope.get()
    return scope if isinstance(scope, int) else None


@contextlib.contextmanager
def chapter_scope(chapter_id: int) -> Iterator[int]:
    """Open the scope of one chapter for the enclosed block."""
    if not isinstance(chapter_id, int) or isinstance(chapter_id, bool):
        raise TypeError("chapter_scope needs an integer chapter id")
    token = _scope.set(chapter_id)
    try:
        yield chapter_id
    finally:
        _scope.reset(token)


@contextlib.contextmanager
def unscoped(reason: str) -> Iterator[None]:
    """Read across all chapters (HQ code only); ``reason`` says why, for review."""
    if not reason or not reason.strip():
        raise ValueError("unscoped() needs a reason")
    token = _scope.set(ALL)
    rtoken = _reason.set(reason)
    try:
        yield
    finally:
        _reason.reset(rtoken)
        _scope.reset(token)


def set_request_scope(scope: object) -> object:
    """Open a scope for the current request; returns the token for :func:`reset_scope`."""
    return _scope.set(scope)


def reset_scope(token: object) -> None:
    _scope.reset(token)  # type: ignore[arg-type]


_criteria_cache: dict[int, object] = {}


def _criteria_for(cid: int):
    """The loader-criteria option of one chapter, built once and reused (it is immutable)."""
    option = _criteria_cache.get(cid)
    if option is None:
        if len(_criteria_cache) > 10_000:
            _criteria_cache.clear()
        option = with_loader_criteria(ChapterFiltered, lambda cls: cls.chapter_id == cid,
                                      include_aliases=True)
        _criteria_cache[cid] = option
    return option


def _touches_tenant(state) -> bool:
    return any(
        m.class_ is not None and issubclass(m.class_, ChapterFiltered) for m in state.all_mappers
    )


@event.listens_for(Session, "do_orm_execute")
def _apply_scope(state) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        # criteria travel with the parent query (with_loader_criteria propagates)
        return
    scope = _scope.get()
    if scope is ALL:
        return
    if scope is None:
        if _touches_tenant(state):
            raise ScopeMissing(
                "a chapter-owned model was queried with no scope: "
                "open chapter_scope(chapter_id) or unscoped(reason) first"
            )
        return
    state.statement = state.statement.options(_criteria_for(scope))


@event.listens_for(Session, "before_flush")
def _check_writes(session, flush_context, instances) -> None:
    scope = _scope.get()
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, ChapterFiltered):
            continue
        if scope is None:
            raise ScopeMissing(f"{type(obj).__name__} written with no chapter scope open")
        if scope is ALL:
            if obj.chapter_id is None:
                raise ScopeViolation(f"{type(obj).__name__} needs a chapter_id")
            continue
        if obj.chapter_id is None:
            obj.chapter_id = scope
        elif obj.chapter_id != scope:
            raise ScopeViolation(
                f"{type(obj).__name__} of chapter {obj.chapter_id} written in chapter {scope}"
            )
    for obj in session.deleted:
        if isinstance(obj, ChapterFiltered) and scope not in (ALL, obj.chapter_id):
            raise ScopeViolation(f"{type(obj).__name__} deleted outside its chapter")
