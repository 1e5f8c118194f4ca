"""The person keys held by owners of two chapters (``shared_person_keys``), kept by the
owners' triggers as they write and rebuilt by the nightly repair (SQLite and PostgreSQL)."""

from __future__ import annotations

import sqlalchemy as sa

from chapter.owners import person_keys
from chapter.owners import service as owners
from chapter.owners.jobs import repair_person_keys
from chapter.owners.models import Owner, SharedPersonKey
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope, unscoped
from tests.chapter.churn.test_service import _id_number
from tests.factories import make_chapter, make_owner


def _shared() -> set[tuple[str, str]]:
    with unscoped("test: the shared person keys"):
        return set(db.session.execute(sa.select(SharedPersonKey.kind, SharedPersonKey.key)).all())


def _update(owner, **data):
    with chapter_scope(owner.chapter_id):
        owners.update_owner(owners.get_owner(owner.id), data)
        db.session.commit()


def test_a_mobile_held_in_one_chapter_only_is_not_shared(db):
    make_owner(make_chapter(), mobile="13800000001")
    assert _shared() == set()


def test_a_mobile_held_in_two_chapters_is_shared(db):
    make_owner(make_chapter(), mobile="13800000002")
    make_owner(make_chapter(), mobile="13800000002")
    assert _shared() == {("mobile", "13800000002")}


def test_an_id_number_held_in_two_chapters_is_shared_whatever_the_mobiles(db):
    id_number = _id_number("11010519850317002")
    first = make_owner(make_chapter(), id_number=id_number)
    make_owner(make_chapter(), id_number=id_number)
    with chapter_scope(first.chapter_id):
        digest = owners.get_owner(first.id).id_number_digest
    assert _shared() == {("id_digest", digest)}


def test_owners_written_by_one_statement_are_counted_together(db):
    a, b = make_chapter(), make_chapter()
    with unscoped("test: a bulk write into two chapters"):
        db.session.execute(sa.insert(Owner.__table__), [
            {"chapter_id": a.id, "kind": "individual", "name": "甲", "mobile": "13800000003",
             "hobbies": []},
            {"chapter_id": b.id, "kind": "individual", "name": "乙", "mobile": "13800000003",
             "hobbies": []}])
        db.session.commit()
    assert _shared() == {("mobile", "13800000003")}


def test_changing_a_mobile_moves_the_shared_key_with_it(db):
    make_owner(make_chapter(), mobile="13800000004")
    make_owner(make_chapter(), mobile="13800000005")
    moving = make_owner(make_chapter(), mobile="13800000004")
    assert _shared() == {("mobile", "13800000004")}
    _update(moving, mobile="13800000005")
    assert _shared() == {("mobile", "13800000005")}


def test_a_removed_mobile_is_no_longer_shared(db):
    make_owner(make_chapter(), mobile="13800000006")
    other = make_owner(make_chapter(), mobile="13800000006")
    with chapter_scope(other.chapter_id):
        db.session.execute(sa.update(Owner).where(Owner.id == other.id).values(mobile=None))
        db.session.commit()
    assert _shared() == set()


def test_a_deleted_owner_takes_the_shared_key_away(db):
    make_owner(make_chapter(), mobile="13800000007")
    other = make_owner(make_chapter(), mobile="13800000007")
    with chapter_scope(other.chapter_id):
        db.session.delete(owners.get_owner(other.id))
        db.session.commit()
    assert _shared() == set()


def test_the_repair_adds_a_missing_key_and_removes_a_stale_one(db):
    make_owner(make_chapter(), mobile="13800000008")
    make_owner(make_chapter(), mobile="13800000008")
    with unscoped("test: a table the triggers did not keep"):
        t = SharedPersonKey.__table__
        db.session.execute(t.delete())
        db.session.execute(t.insert().values(kind="mobile", key="13800000009"))
        assert person_keys.repair() == {"added": 1, "removed": 1}
        db.session.commit()
    assert _shared() == {("mobile", "13800000008")}
    with unscoped("test: a second repair"):
        assert person_keys.repair() == {"added": 0, "removed": 0}


def test_the_nightly_job_repairs_the_keys(db):
    make_owner(make_chapter(), mobile="13800000010")
    make_owner(make_chapter(), mobile="13800000010")
    with unscoped("test: a key two chapters wrote at the same moment"):
        db.session.execute(SharedPersonKey.__table__.delete())
        db.session.commit()
    result = repair_person_keys(None)
    assert (result["added"], result["removed"]) == (1, 0)
    assert _shared() == {("mobile", "13800000010")}
