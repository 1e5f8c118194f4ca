"""Settlement pages and API: who sees which statement, exports, the points report."""

from __future__ import annotations

from datetime import date

from clubplatform.extensions import db
from clubplatform.tenancy import unscoped
from hq.settlement import service
from tests.factories import make_member, make_user
from tests.hq.points.factories import award
from tests.hq.settlement.factories import redeem

MARCH = date(2025, 3, 1)


def _drafted(two_chapters):
    m = make_member(two_chapters["a"])
    award(m.id, two_chapters["a"].id, 1_000, on=date(2025, 3, 2))
    redeem(m.id, two_chapters["a"].id, 100, on=date(2025, 3, 3))
    with unscoped("test"):
        service.draft_month(MARCH)
        db.session.commit()
        return service.get_chapter_statement(
            db.session.scalars(service.chapter_statements_query(
                chapter_id=two_chapters["a"].id).with_only_columns(
                    service.ChapterStatement.id)).one())


def test_a_chapter_cannot_see_another_chapters_statement(two_chapters, login_as, client):
    st = _drafted(two_chapters)
    login_as(two_chapters["manager_b"])
    assert client.get(f"/chapter/settlement/statements/{st.id}").status_code == 404
    assert client.get(f"/api/v1/settlement/statements/{st.id}").status_code == 404


def test_the_chapter_lists_only_its_own_statements_in_the_api(two_chapters, login_as, client):
    _drafted(two_chapters)
    login_as(two_chapters["manager_a"])
    body = client.get("/api/v1/settlement/statements").get_json()
    assert {s["chapter_id"] for s in body} == {two_chapters["a"].id}


def test_the_manager_confirms_and_exports_the_statement(two_chapters, login_as, client):
    st = _drafted(two_chapters)
    login_as(two_chapters["manager_a"])
    page = client.get(f"/chapter/settlement/statements/{st.id}")
    assert page.status_code == 200
    resp = client.get(f"/chapter/settlement/statements/{st.id}/export")
    assert resp.status_code == 200 and resp.data[:2] == b"PK"


def test_hq_sees_every_statement_and_exports_the_month(two_chapters, login_as, client):
    _drafted(two_chapters)
    login_as(make_user("hq_admin"))
    assert client.get("/hq/settlement/?month=2025-03").status_code == 200
    assert len(client.get("/api/v1/settlement/statements?month=2025-03").get_json()) == 2
    resp = client.get("/hq/settlement/export?month=2025-03")
    assert resp.status_code == 200 and resp.data[:2] == b"PK"


def test_the_points_report_sums_issued_and_redeemed(two_chapters, login_as, client):
    _drafted(two_chapters)
    login_as(make_user("hq_admin"))
    body = client.get("/api/v1/points/report?month=2025-03&group=nation").get_json()
    assert (body["total"]["issued"], body["total"]["redeemed"], body["total"]["outstanding"]) \
        == (1_000, 100, 900)
    assert client.get("/hq/settlement/report?month=2025-03").status_code == 200
    login_as(two_chapters["manager_b"])
    mine = client.get("/api/v1/points/report?month=2025-03").get_json()
    assert mine["total"]["issued"] == 0
