"""Month-end snapshots, backfill, re-snapshot, and the dashboard's reads.

- A month end's figures are written once (:func:`snapshot_months`, by the monthly job
  or a backfill) with ``INSERT … SELECT`` from :func:`figures.figures_statement`; a
  month already snapshotted is never written again, so its figures do not change
  when today's data changes.
- :func:`resnapshot` recomputes one month on an HQ admin's explicit request (after a
  correction of a past record) and writes the change to the audit log.
- The dashboard reads snapshots (:func:`dashboard`, :func:`trend`); a month not yet
  snapshotted (the running month, or before a backfill) is computed live from history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from clubplatform import dates
from clubplatform.analytics import figures
from clubplatform.analytics.figures import FIGURES, FigureRow
from clubplatform.analytics.models import (
    CHAPTER,
    LEVELS,
    NATION,
    REGION,
    AnalyticsMonth,
    AnalyticsSnapshot,
)
from clubplatform.audit import service as audit
from clubplatform.db import utcnow
from clubplatform.errors import Conflict, field_error
from clubplatform.extensions import db
from clubplatform.tabular import to_csv, to_xlsx

#: figures a ranking can be ordered by
RANK_BY = ("recruitment_rate_bp", "join_rate_bp", "members", "new_members",
           "referral_purchases", "referral_purchases_ytd", "owners")
EXPORT_FORMATS = ("csv", "xlsx")
FIGURE_LABELS = {
    "chapters": _l("Chapters"),
    "dealers_full_after_sales": _l("Dealers with full after-sales"),
    "join_rate_bp": _l("Dealer join rate"),
    "members": _l("Members"),
    "pending_applications": _l("Pending applications"),
    "new_members": _l("New members in the month"),
    "owners": _l("Individual owners"),
    "recruitment_rate_bp": _l("Member recruitment rate"),
    "referral_purchases": _l("Referral purchases in the month"),
    "referral_purchases_ytd": _l("Referral purchases this year"),
}
MAX_TREND_MONTHS = 60


# --- months ------------------------------------------------------------------------

def parse_month(text: str | None, *, field_name: str = "month", default: date | None = None) -> date:
    """``YYYY-MM`` → the month's last day. Empty → ``default`` (the last complete month)."""
    if not text or not str(text).strip():
        return default or figures.last_complete_month_end()
    try:
        year, month = (int(x) for x in str(text).strip().split("-"))
        first = date(year, month, 1)
    except ValueError:
        raise field_error(field_name, _l("Enter a month as YYYY-MM.")) from None
    if first > dates.today():
        raise field_error(field_name, _l("The month is in the future."))
    return dates.month_end(first)


def _complete(month_end: date, field_name: str = "month") -> date:
    month_end = dates.month_end(month_end)
    if month_end >= dates.today():
        raise field_error(field_name, _l("Only a month that has ended can be snapshotted."))
    return month_end


def snapshotted_months(first: date | None = None, last: date | None = None) -> dict[date, AnalyticsMonth]:
    stmt = sa.select(AnalyticsMonth)
    if first is not None:
        stmt = stmt.where(AnalyticsMonth.month_end >= first)
    if last is not None:
        stmt = stmt.where(AnalyticsMonth.month_end <= last)
    return {m.month_end: m for m in db.session.execute(stmt).scalars()}


# --- writing snapshots ---------------------------------------------------------------

@dataclass
class SnapshotResult:
    written: list[date] = field(default_factory=list)
    kept: list[date] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"written": [d.isoformat() for d in self.written],
                "kept": [d.isoformat() for d in self.kept],
                "message": f"{len(self.written)} month(s) snapshotted, "
                           f"{len(self.kept)} already there"}


def _insert_figures(first: date, last: date, months: list[date]) -> None:
    """``INSERT … SELECT`` of the range's figures for the given month ends only."""
    figures.give_room()
    stmt = figures.figures_statement(first, last).subquery()
    cols = ["month_end", "level", "scope_id", "region_id", *FIGURES]
    db.session.execute(
        sa.insert(AnalyticsSnapshot).from_select(
            cols, sa.select(*[stmt.c[c] for c in cols]).where(stmt.c.month_end.in_(months))))


def snapshot_months(first: date, last: date, *, source: str = "backfill") -> SnapshotResult:
    """Snapshot every month end from ``first``'s month to ``last``'s that has none yet.

    Months already snapshotted are kept as they are (a past month never changes); the
    range's figures are computed in one statement. Months not ended are refused.
    """
    first, last = dates.month_end(first), _complete(last, "to")
    if last < first:
        raise field_error("to", _l("The range ends before it starts."))
    wanted = figures.month_ends(first, last)
    have = snapshotted_months(first, last)
    todo = [m for m in wanted if m not in have]
    result = SnapshotResult(kept=[m for m in wanted if m in have])
    if not todo:
        return result
    # lock out a concurrent snapshot of the same months: the month rows go in first
    # (their primary key makes the second writer fail instead of doubling the figures)
    now = utcnow()
    db.session.add_all([AnalyticsMonth(month_end=m, source=source, taken_at=now, revision=1)
                        for m in todo])
    try:
        with db.session.begin_nested():
            db.session.flush()
    except sa.exc.IntegrityError as exc:
        raise field_error("month", _l("These months are being snapshotted right now."),
                          Conflict) from exc
    _insert_figures(todo[0], todo[-1], todo)
    result.written = todo
    return result


def snapshot_month(month_end: date, *, source: str = "job") -> SnapshotResult:
    return snapshot_months(month_end, month_end, source=source)


def resnapshot(month_end: date, *, actor, reason: str, ip: str | None = None) -> AnalyticsMonth:
    """Recompute one month's snapshot from history (HQ admin, audited with what changed)."""
    month_end = _complete(month_end)
    if not (reason or "").strip():
        raise field_error("reason", _l("Give the reason for the re-snapshot (the correction)."))
    month = db.session.execute(
        sa.select(AnalyticsMonth).where(AnalyticsMonth.month_end == month_end)
        .with_for_update()).scalar_one_or_none()
    before = _nation_of(month_end) if month is not None else None
    if month is None:
        month = AnalyticsMonth(month_end=month_end, revision=0)
        db.session.add(month)
    month.source, month.taken_at = "resnapshot", utcnow()
    month.revision = (month.revision or 0) + 1
    month.taken_by_id = getattr(actor, "id", None)
    db.session.flush()
    db.session.execute(sa.delete(AnalyticsSnapshot).where(AnalyticsSnapshot.month_end == month_end))
    _insert_figures(month_end, month_end, [month_end])
    after = _nation_of(month_end)
    changed = {k: [before.get(k) if before else None, after.get(k)] for k in FIGURES
               if not before or before.get(k) != after.get(k)}
    audit.record("analytics_resnapshot", actor=actor, ip=ip, target_type="analytics_month",
                 target_id=month_end.isoformat(),
                 details={"month_end": month_end.isoformat(), "revision": month.revision,
                          "reason": reason.strip(), "nation_changed": changed})
    return month


def _nation_of(month_end: date) -> dict:
    snap = db.session.execute(sa.select(AnalyticsSnapshot).where(
        AnalyticsSnapshot.month_end == month_end, AnalyticsSnapshot.level == NATION)
    ).scalar_one_or_none()
    return {k: getattr(snap, k) for k in FIGURES} if snap else {}


# --- reading -------------------------------------------------------------------------

def _from_snapshot(s: AnalyticsSnapshot) -> FigureRow:
    return FigureRow(month_end=s.month_end, level=s.level, scope_id=s.scope_id,
                     region_id=s.region_id, **{k: getattr(s, k) for k in FIGURES})


def read_snapshot(month_end: date, *, level: str | None = None,
                  region_id: int | None = None) -> list[FigureRow]:
    """A month end's snapshot rows (plain Core rows: the dashboard's hot path)."""
    t = AnalyticsSnapshot.__table__
    stmt = sa.select(*[t.c[k] for k in (*figures.KEYS, *FIGURES)]).where(t.c.month_end == month_end)
    if level is not None:
        stmt = stmt.where(t.c.level == level)
    if region_id is not None:
        stmt = stmt.where(sa.or_(t.c.level == NATION, t.c.region_id == region_id))
    stmt = stmt.order_by(t.c.level, t.c.scope_id)
    return [FigureRow.from_row(r) for r in db.session.execute(stmt)]


def _snapshot_month(month_end: date) -> AnalyticsMonth | None:
    return db.session.execute(sa.select(AnalyticsMonth).where(
        AnalyticsMonth.month_end == month_end)).scalar_one_or_none()


def figures_for(month_end: date, *, live: bool = False, level: str | None = None,
                region_id: int | None = None) -> tuple[list[FigureRow], str]:
    """A month end's rows, from its snapshot (``"snapshot"``) or history (``"live"``)."""
    rows, source, _month = _figures_and_month(month_end, live=live, level=level,
                                              region_id=region_id)
    return rows, source


def _figures_and_month(month_end: date, *, live: bool, level: str | None,
                       region_id: int | None):
    month_end = dates.month_end(month_end)
    month = None if live else _snapshot_month(month_end)
    if month is not None:
        return read_snapshot(month_end, level=level, region_id=region_id), "snapshot", month
    rows = figures.compute(month_end, month_end, level=level)
    if region_id is not None:
        rows = [r for r in rows if r.level == NATION or r.region_id == region_id]
    return rows, "live", None


@dataclass
class Labels:
    regions: dict[int, tuple[str, str]]  # id -> (code, name)
    chapters: dict[int, tuple[str, str, int]]  # id -> (dealer code, name, region id)

    def name(self, row: FigureRow) -> str:
        if row.level == CHAPTER:
            return self.chapters.get(row.scope_id, ("", f"#{row.scope_id}", 0))[1]
        if row.level == REGION:
            return self.regions.get(row.scope_id, ("", f"#{row.scope_id}"))[1]
        return str(_l("Nation"))

    def code(self, row: FigureRow) -> str:
        if row.level == CHAPTER:
            return self.chapters.get(row.scope_id, ("",))[0]
        if row.level == REGION:
            return self.regions.get(row.scope_id, ("",))[0]
        return ""

    def region_code(self, row: FigureRow) -> str:
        return self.regions.get(row.region_id, ("",))[0] if row.region_id else ""


def labels() -> Labels:
    """Names of regions and chapters (platform tables, read with Core SQL)."""
    t = db.metadata.tables
    rg, ch, dl = t["regions"], t["chapters"], t["dealers"]
    english = str(get_locale() or "").startswith("en")
    both = sa.union_all(
        sa.select(sa.literal_column("'r'").label("k"), rg.c.id, rg.c.code,
                  (sa.func.coalesce(sa.func.nullif(rg.c.name_en, ""), rg.c.name_zh)
                   if english else rg.c.name_zh).label("name"),
                  sa.cast(sa.null(), sa.Integer).label("region_id")),
        sa.select(sa.literal_column("'c'"), ch.c.id, dl.c.code, ch.c.name, dl.c.region_id)
        .select_from(ch.join(dl, dl.c.id == ch.c.dealer_id)))
    regions, chapters = {}, {}
    for kind, key, code, name, region in db.session.execute(both):  # one round trip
        if kind == "r":
            regions[key] = (code, name)
        else:
            chapters[key] = (code, name, region)
    return Labels(regions=regions, chapters=chapters)


def ranked(rows: list[FigureRow], level: str, by: str = "recruitment_rate_bp") -> list[FigureRow]:
    """Rows of a level, best first by ``by`` (missing rates last), then by scope id."""
    if by not in RANK_BY:
        raise field_error("rank_by", _l("Unknown figure to rank by."))
    chosen = [r for r in rows if r.level == level]
    return sorted(chosen, key=lambda r: (getattr(r, by) is None, -(getattr(r, by) or 0),
                                         r.scope_id))


@dataclass
class Dashboard:
    month_end: date
    source: str
    nation: FigureRow | None
    regions: list[FigureRow]
    chapters: list[FigureRow]
    labels: Labels
    rank_by: str
    snapshot: AnalyticsMonth | None = None


def dashboard(month_end: date, *, region_id: int | None = None, rank_by: str = "recruitment_rate_bp",
              live: bool = False) -> Dashboard:
    """What the dashboard shows for a month end: the nation, ranked regions and chapters."""
    rows, source, month = _figures_and_month(month_end, live=live, level=None,
                                             region_id=region_id)
    nation = next((r for r in rows if r.level == NATION), None)
    return Dashboard(month_end=month_end, source=source, nation=nation,
                     regions=ranked(rows, REGION, rank_by), chapters=ranked(rows, CHAPTER, rank_by),
                     labels=labels(), rank_by=rank_by, snapshot=month)


def trend(first: date, last: date, *, level: str = NATION, scope_id: int = 0) -> list[FigureRow]:
    """One scope's rows for each month end of the range: snapshots where they exist,
    the other months computed from history in one statement."""
    if level not in LEVELS:
        raise field_error("level", _l("Choose chapter, region or nation."))
    first, last = dates.month_end(first), dates.month_end(last)
    if last < first:
        raise field_error("to", _l("The range ends before it starts."))
    wanted = figures.month_ends(first, last)
    if len(wanted) > MAX_TREND_MONTHS:
        raise field_error("from", _l("Choose at most %(n)s months.", n=MAX_TREND_MONTHS))
    scope_id = 0 if level == NATION else scope_id
    snaps = {s.month_end: _from_snapshot(s) for s in db.session.execute(
        sa.select(AnalyticsSnapshot).where(
            AnalyticsSnapshot.level == level, AnalyticsSnapshot.scope_id == scope_id,
            AnalyticsSnapshot.month_end.between(first, last))).scalars()}
    have = snapshotted_months(first, last)
    missing = [m for m in wanted if m not in have]
    live = {}
    if missing:
        live = {r.month_end: r for r in figures.compute(missing[0], missing[-1], level=level,
                                                        scope_id=scope_id)}
    out = []
    for m in wanted:
        row = snaps.get(m) if m in have else live.get(m)
        if row is not None:
            out.append(row)
    return out


# --- tables and exports --------------------------------------------------------------

def percent(bp: int | None) -> str:
    return "" if bp is None else f"{bp / 100:.2f}%"


def table_of(rows: list[FigureRow], lab: Labels) -> tuple[list[str], list[list]]:
    headers = [str(_l("Month end")), str(_l("Level")), str(_l("ID")), str(_l("Code")),
               str(_l("Name")), str(_l("Region")), *[str(FIGURE_LABELS[k]) for k in FIGURES]]
    body = []
    for r in rows:
        values = [percent(getattr(r, k)) if k.endswith("_bp") else getattr(r, k) for k in FIGURES]
        body.append([r.month_end.isoformat(), r.level, r.scope_id, lab.code(r), lab.name(r),
                     lab.region_code(r), *values])
    return headers, body


@dataclass
class ExportFile:
    content: bytes
    mimetype: str
    filename: str


def export(rows: list[FigureRow], *, fmt: str, stem: str, actor, ip: str | None = None) -> ExportFile:
    """The rows as CSV (UTF-8 with BOM) or XLSX; audited."""
    if fmt not in EXPORT_FORMATS:
        raise field_error("format", _l("Choose CSV or XLSX."))
    headers, body = table_of(rows, labels())
    if fmt == "csv":
        content, mimetype = to_csv(headers, body), "text/csv; charset=utf-8"
    else:
        content = to_xlsx(headers, body, title=str(_l("Figures")))
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    filename = f"{stem}.{fmt}"
    audit.record("export", actor=actor, ip=ip, target_type="analytics",
                 details={"file": filename, "rows": len(body), "format": fmt})
    return ExportFile(content=content, mimetype=mimetype, filename=filename)
