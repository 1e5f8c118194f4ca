"""Month-end snapshots: the job keeps each chapter's matrix; HQ reads them; the past holds."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from chapter.churn import jobs as churn_jobs
from chapter.churn import service
from chapter.churn.models import ChurnSnapshot
from clubplatform import jobs
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope, unscoped
from tests.chapter.churn.factories import owner_with_visits
from tests.chapter.owners.factories import make_visit
from tests.factories import make_chapter, make_user

MONTH = "2026-03"


def _work(app):
    queue = jobs.get_queue(app)
    if queue.is_async:
        from rq import SimpleWorker

        SimpleWorker([queue], connection=queue.connection).work(burst=True)


def _snapshots(chapter_id):
    with unscoped("test"):
        return {(s.loyalty, s.value): s.owners for s in db.session.execute(
            sa.select(ChurnSnapshot).where(ChurnSnapshot.chapter_id == chapter_id)).scalars()}


def _fan_out(app, month=MONTH, again=None):
    jobs.submit(churn_jobs.snapshot_all, month, again, name="churn-snapshot-all",
                chapter_id=None, key=f"{month}-{again}")
    _work(app)
    _work(app)
    db.session.expire_all()


def test_the_fan_out_keeps_nine_cells_per_chapter_equal_to_the_live_matrix(app, db):
    a, b = make_chapter(), make_chapter()
    owner_with_visits(a, [(date(2026, 3, 10), 500)])
    owner_with_visits(a, [(date(2024, 1, 10), 100)])
    owner_with_visits(b, [(date(2025, 12, 1), 100)])
    _fan_out(app)
    kept = _snapshots(a.id)
    assert len(kept) == 9 and sum(kept.values()) == 2
    with chapter_scope(a.id):
        live = service.chapter_matrix(a.id, date(2026, 3, 31))
    assert kept == {(c.loyalty, c.value): c.owners for c in live.as_list()}
    assert sum(_snapshots(b.id).values()) == 1


def test_a_second_fan_out_for_the_month_changes_nothing(app, db):
    a = make_chapter()
    owner_with_visits(a, [(date(2026, 3, 10), 500)])
    _fan_out(app)
    first = _snapshots(a.id)
    _fan_out(app)
    with unscoped("test"):
        assert db.session.execute(sa.select(sa.func.count()).select_from(
            ChurnSnapshot)).scalar_one() == 9
    assert _snapshots(a.id) == first


def test_a_kept_month_does_not_change_when_a_visit_is_added_later(app, db):
    a = make_chapter()
    car_owner = owner_with_visits(a, [(date(2024, 1, 10), 100)])
    _fan_out(app)
    assert _snapshots(a.id)[("C", "S")] == 1
    from tests.chapter.owners.factories import make_vehicle

    make_visit(a, make_vehicle(a, car_owner), visit_date=date(2026, 3, 20), amount="100.00")
    assert _snapshots(a.id)[("C", "S")] == 1
    with unscoped("test"):
        rows, total, chapters = service.hq_snapshot_matrices(date(2026, 3, 1))
    assert total.cell("C", "S").owners == 1 and chapters == 1
    _fan_out(app, again="fix")  # an explicit re-computation takes the correction
    assert _snapshots(a.id)[("C", "S")] == 0


def test_hq_reads_a_regions_chapters_from_the_snapshots(app, client, login_as, db):
    a, b = make_chapter(), make_chapter()
    owner_with_visits(a, [(date(2026, 3, 10), 500)])
    owner_with_visits(b, [(date(2026, 3, 10), 500)])
    _fan_out(app)
    hq = login_as(make_user("hq_analyst"))
    body = hq.get("/api/v1/hq/churn/matrix", query_string={"month": MONTH}).get_json()
    assert body["source"] == "snapshot" and body["chapters"] == 2
    assert body["total"]["total"] == 2
    html = hq.get("/hq/churn/", query_string={"month": MONTH,
                                               "region_id": a.dealer.region_id}).get_data(
        as_text=True)
    assert f'data-key="{a.id}"' in html and 'data-source="snapshot"' in html


def test_hq_admin_asks_for_a_months_snapshots(app, client, login_as, db):
    a = make_chapter()
    owner_with_visits(a, [(date(2026, 3, 10), 500)])
    hq = login_as(make_user("hq_admin"))
    resp = hq.post("/hq/churn/snapshots", data={"month": MONTH})
    assert resp.status_code == 302 and "/jobs/" in resp.headers["Location"]
    _work(app)
    _work(app)
    db.session.expire_all()
    assert sum(_snapshots(a.id).values()) == 1


def test_the_current_month_cannot_be_kept(app, client, login_as, db):
    hq = login_as(make_user("hq_admin"))
    this_month = service.as_of_for(None).strftime("%Y-%m")
    resp = hq.post("/hq/churn/snapshots", data={"month": this_month})
    assert resp.status_code == 302 and "/jobs/" not in resp.headers["Location"]


def test_the_fan_out_mends_a_shared_person_key_before_it_keeps_the_month(app, db):
    from chapter.owners.models import SharedPersonKey

    a, b = make_chapter(), make_chapter()
    owner_with_visits(a, [(date(2026, 3, 10), 500)], mobile="13912340001")
    owner_with_visits(b, [(date(2026, 2, 1), 300)], mobile="13912340001")
    with unscoped("test: a key two chapters wrote at the same moment, missed"):
        db.session.execute(SharedPersonKey.__table__.delete())
        db.session.commit()
    _fan_out(app)
    # serviced at b too in the last 12 months: swinging (B), not loyal (A)
    assert _snapshots(a.id)[("B", "S")] == 1 and sum(_snapshots(a.id).values()) == 1
