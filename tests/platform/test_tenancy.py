"""The central tenant scope: filtered reads, checked writes, fail closed.

The kernel has no chapter-owned business table yet, so these tests use a small
tenant-scoped table of their own (on a separate metadata, created for the module).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from clubplatform.tenancy import (
    ScopeMissing,
    ScopeViolation,
    TenantScoped,
    chapter_scope,
    current_scope,
    unscoped,
)
from tests.factories import make_chapter


class _Base(DeclarativeBase):
    pass


# stand-in for the real table, so that the foreign key resolves on this metadata
sa.Table("chapters", _Base.metadata, sa.Column("id", sa.Integer, primary_key=True))


class Note(TenantScoped, _Base):
    __tablename__ = "test_tenancy_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(sa.String(50))


@pytest.fixture
def notes(app, db):
    _Base.metadata.create_all(db.engine, tables=[Note.__table__])
    a, b = make_chapter(), make_chapter()
    with unscoped("test setup"):
        db.session.add_all([Note(chapter_id=a.id, text="a1"), Note(chapter_id=a.id, text="a2"),
                            Note(chapter_id=b.id, text="b1")])
        db.session.commit()
    ids = a.id, b.id
    db.session.remove()
    yield ids
    db.session.remove()
    _Base.metadata.drop_all(db.engine, tables=[Note.__table__])


def test_query_in_a_chapter_scope_sees_only_that_chapters_rows(notes, db):
    a, _ = notes
    with chapter_scope(a):
        texts = db.session.execute(sa.select(Note.text).order_by(Note.text)).scalars().all()
    assert texts == ["a1", "a2"]


def test_count_in_a_chapter_scope_counts_only_that_chapter(notes, db):
    _, b = notes
    with chapter_scope(b):
        n = db.session.execute(sa.select(sa.func.count()).select_from(Note)).scalar_one()
    assert n == 1


def test_get_by_id_of_another_chapters_row_finds_nothing(notes, db):
    a, b = notes
    with unscoped("find the id"):
        b_id = db.session.execute(sa.select(Note.id).where(Note.chapter_id == b)).scalar_one()
    db.session.remove()
    with chapter_scope(a):
        assert db.session.get(Note, b_id) is None


def test_query_with_no_scope_open_fails_closed(notes, db):
    with pytest.raises(ScopeMissing):
        db.session.execute(sa.select(Note)).all()


def test_unscoped_reads_across_chapters(notes, db):
    with unscoped("HQ report"):
        assert db.session.execute(sa.select(sa.func.count()).select_from(Note)).scalar_one() == 3


def test_unscoped_needs_a_reason():
    with pytest.raises(ValueError):
        with unscoped(""):
            pass


def test_bulk_update_in_a_scope_touches_only_that_chapter(notes, db):
    a, _ = notes
    with chapter_scope(a):
        result = db.session.execute(sa.update(Note).values(text="x"))
        db.session.commit()
        assert result.rowcount == 2
    with unscoped("check"):
        assert db.session.execute(
            sa.select(sa.func.count()).select_from(Note).where(Note.text == "x")).scalar_one() == 2


def test_insert_in_a_scope_fills_the_chapter(notes, db):
    a, _ = notes
    with chapter_scope(a):
        note = Note(text="new")
        db.session.add(note)
        db.session.flush()
        assert note.chapter_id == a
        db.session.rollback()


def test_insert_for_another_chapter_is_refused(notes, db):
    a, b = notes
    with chapter_scope(a):
        db.session.add(Note(chapter_id=b, text="sneaky"))
        with pytest.raises(ScopeViolation):
            db.session.flush()
        db.session.rollback()


def test_insert_with_no_scope_is_refused(notes, db):
    a, _ = notes
    db.session.add(Note(chapter_id=a, text="nowhere"))
    with pytest.raises(ScopeMissing):
        db.session.flush()
    db.session.rollback()


def test_subquery_in_a_scope_is_filtered_too(notes, db):
    a, _ = notes
    with chapter_scope(a):
        sub = sa.select(Note.id).where(Note.text.like("%1"))
        rows = db.session.execute(sa.select(Note.text).where(Note.id.in_(sub))).scalars().all()
    assert rows == ["a1"]


def test_scope_is_closed_again_after_the_block(notes):
    a, _ = notes
    with chapter_scope(a):
        assert current_scope() == a
    assert current_scope() is None


def test_chapter_user_requests_run_in_their_chapters_scope(app, db, client, login_as,
                                                           two_chapters):
    from flask import template_rendered

    seen = []

    def _record(sender, template, context, **extra):
        seen.append(current_scope())

    login_as(two_chapters["staff_b"])
    with template_rendered.connected_to(_record, app):
        assert client.get("/chapter/").status_code == 200
    assert seen and set(seen) == {two_chapters["b"].id}
