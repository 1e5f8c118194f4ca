"""Dealer import: runs as a job, keeps every good row, reports every bad one."""

from __future__ import annotations

import io

import sqlalchemy as sa

from clubplatform.jobs.models import JobFile, JobRun
from clubplatform.org.models import Dealer
from tests.factories import make_region, make_user

HEADER = "经销商代码,经销商名称,大区,城市,完整售后日期\n"
ROWS = (
    "BJ-201,北京一号汽车,BJ,北京市,2020-01-01\n"
    "BJ-202,北京二号汽车,北京,北京市,2021/03/05\n"
    "BJ-203,北京三号汽车,XX,北京市,2020-01-01\n"       # unknown region
    "bad code!,坏代码,BJ,北京市,\n"                      # invalid code
    "BJ-205,北京五号汽车,BJ,北京市,明天\n"               # not a date
    "SH-206,上海六号汽车,SH,上海市,\n"
)


def _upload(client, content: bytes, filename="dealers.csv"):
    return client.post("/hq/org/dealers/import",
                       data={"file": (io.BytesIO(content), filename)},
                       content_type="multipart/form-data")


def _run(db) -> JobRun:
    db.session.expire_all()
    return db.session.execute(sa.select(JobRun)).scalar_one()


def _admin(client, login_as):
    make_region("BJ", "北京"), make_region("SH", "上海")
    login_as(make_user("hq_admin"))


def _work_queue(app):
    """With real Redis (CI) the job waits in RQ: run a worker; inline it already ran."""
    from clubplatform.jobs import get_queue

    with app.app_context():
        queue = get_queue(app)
        if queue.is_async:
            from rq import SimpleWorker

            SimpleWorker([queue], connection=queue.connection).work(burst=True)


def test_import_keeps_good_rows_and_reports_every_bad_row(app, client, db, login_as):
    _admin(client, login_as)
    r = _upload(client, (HEADER + ROWS).encode("gb18030"))
    assert r.status_code == 302 and "/jobs/" in r.headers["Location"]
    _work_queue(app)
    run = _run(db)
    assert run.status == "finished"
    assert run.result["created"] == 3 and run.result["failed"] == 3
    codes = set(db.session.execute(sa.select(Dealer.code)).scalars())
    assert codes == {"BJ-201", "BJ-202", "SH-206"}
    report = client.get(f"/jobs/{run.id}/errors")
    assert report.status_code == 200
    text = report.data.decode("utf-8-sig")
    rows = [line.split(",")[0] for line in text.strip().splitlines()[1:]]
    assert rows == ["4", "5", "6"]


def test_reimporting_the_same_file_changes_nothing(app, client, db, login_as):
    _admin(client, login_as)
    content = (HEADER + ROWS).encode("utf-8-sig")
    _upload(client, content)
    _work_queue(app)
    db.session.execute(sa.delete(JobFile))
    db.session.execute(sa.delete(JobRun))
    db.session.commit()
    _upload(client, content)
    _work_queue(app)
    run = _run(db)
    assert run.result["created"] == 0 and run.result["unchanged"] == 3


def test_import_reads_an_xlsx_file(app, client, db, login_as):
    from clubplatform.tabular import to_xlsx

    _admin(client, login_as)
    content = to_xlsx(["dealer code", "dealer name", "region", "city"],
                      [["HZ-1", "杭州汽车", "BJ", "杭州市"]])
    _upload(client, content, "dealers.xlsx")
    _work_queue(app)
    assert _run(db).result["created"] == 1


def test_file_without_the_needed_columns_gets_a_clear_message(app, client, db, login_as):
    _admin(client, login_as)
    _upload(client, b"foo,bar\n1,2\n")
    _work_queue(app)
    run = _run(db)
    assert run.status == "finished" and run.result["total"] == 0
    assert "code" in run.message
    page = client.get(f"/jobs/{run.id}").get_data(as_text=True)
    assert run.message in page


def test_empty_upload_is_refused_on_the_page(app, client, db, login_as):
    _admin(client, login_as)
    r = _upload(client, b"")
    assert r.status_code == 302
    assert db.session.execute(sa.select(sa.func.count()).select_from(JobRun)).scalar_one() == 0


def test_binary_garbage_gets_a_clear_message_not_a_500(app, client, db, login_as):
    _admin(client, login_as)
    _upload(client, bytes(range(256)) * 10, "dealers.csv")
    _work_queue(app)
    run = _run(db)
    assert run.status == "finished" and run.result["total"] == 0 and run.message
