"""Churn and segmentation: value × loyalty matrix, RFM, churn trend (客户价值 / 忠诚度).

Everything is computed in SQL over the Core tables ``owners`` and ``service_visits``
with explicit chapter predicates (GROUP BY and window functions, the same statements
on SQLite and PostgreSQL), so it reads the same in a chapter's scope, for HQ and in
benches. Nothing loads visits into Python.

Definitions, as of a business date *T* (a month end, or today for this month):

- **Population**: the chapter's owners (individuals and companies) with at least one
  service visit at the chapter's dealer on or before *T*. Owners who never came to
  after-sales are not in the matrix.
- **Spend**: the sum of the owner's visit amounts in the value window, the 24 months
  ending on *T* (visit date after *T* − 24 months, up to *T*).
- **Value segment** (D/G/S), within the chapter: let *N* be the population and, for an
  owner, *k* the number of owners whose spend is **at least** the owner's (the owner
  and ties included: the cumulative distribution ``CUME_DIST`` over spend descending,
  counted as an integer with ``COUNT(*) OVER (ORDER BY spend DESC)``). D when
  ``k ≤ 15% · N``, G when ``k ≤ (15% + 35%) · N``, S otherwise. Owners with equal spend
  always share a segment; a tie group that would straddle a cut-off goes to the lower
  segment, so D never holds more than 15% of owners (with 5 owners there is no D).
  The comparison is in integers (``100·k ≤ pct·N``), so there is no rounding edge.
- **Loyalty** (A/B/C), from the last visit date *L* on or before *T*:

  - **C lost**: *L* ≤ *T* − 12 months (no visit for 12 months or more).
  - **A loyal**: *L* > *T* − *interval* (the owner came back within the maintenance
    interval, default 6 months: "on schedule") and the owner was not also serviced at
    another dealer in the last 12 months.
  - **B swinging**: everyone else: late (last visit between the interval and 12
    months ago), or on time but also serviced at another dealer.

  A visit row records no dealer (every visit is at its chapter's dealer), so "serviced
  at another dealer" means: the same person (same mobile or same ID-number digest) is
  also an owner of another chapter with a visit there within the last 12 months up to
  *T*. Dealers without a chapter are not on the platform and cannot be seen.
- **RFM** (1–5 each, 5 best), over the population: recency by *L*, frequency by the
  number of visits and monetary by spend, both in the value window. The score is the
  quintile of the owner's rank, ``1 + 5·(rank − 1) div N`` with
  ``RANK() OVER (ORDER BY value ASC)``: like ``NTILE(5)`` but owners with equal values
  share a score (``NTILE`` would split a tie arbitrarily, differently on each database).
- **Churn trend**: for each month end *M* of the range, the share of lost owners
  (C) among the population as of *M*, computed from the visit history with the cut-off
  in effect now. Visits are dated facts, so a past month's figure only changes when a
  visit is corrected or back-dated.

The cut-offs (15% / 35%, 12 months, the interval) are HQ settings
(:class:`chapter.churn.models.ChurnSetting`), with defaults in :data:`DEFAULTS`.
"""

from __future__ import annotations

import importlib
from dataclasses import asdict, dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from chapter.churn.models import ChurnSetting, ChurnSnapshot
from chapter.owners import person_keys
from chapter.owners.models import PERSON_KEYS, Owner, ServiceVisit
from clubplatform import dates
from clubplatform.audit import service as audit
from clubplatform.db import bytewise, utcnow
from clubplatform.errors import ValidationFailed, field_error
from clubplatform.extensions import db
from clubplatform.org.models import Chapter, Dealer, Region
from clubplatform.tabular import to_csv, to_xlsx
from clubplatform.tenancy import unscoped
from hq.members.models import Member

#: months of visits the value segment and RFM frequency/monetary look at
VALUE_WINDOW_MONTHS = 24
LOYALTIES = ("A", "B", "C")
VALUES = ("D", "G", "S")

#: HQ settings and their defaults (used when HQ has not set them)
DEFAULTS: dict[str, int] = {
    "d_share_pct": 15,
    "g_share_pct": 35,
    "lost_months": 12,
    "service_interval_months": 6,
}
SETTING_LABELS = {
    "d_share_pct": _l("Diamond (D): top share of owners by spend, %"),
    "g_share_pct": _l("Gold (G): next share of owners by spend, %"),
    "lost_months": _l("Lost (C): months without a visit"),
    "service_interval_months": _l("Maintenance interval (on schedule), months"),
}
LOYALTY_LABELS = {"A": _l("A loyal"), "B": _l("B swinging"), "C": _l("C lost")}
VALUE_LABELS = {"D": _l("D diamond"), "G": _l("G gold"), "S": _l("S silver")}
ACTIONS = {
    "A": _l("Keep with care at low cost."),
    "B": _l("Most at risk: spend the marketing budget here."),
    "C_high": _l("High value: win back."),
    "C_low": _l("Low value: no after-sales marketing spend."),
}
EXPORT_FORMATS = ("csv", "xlsx")


def action_for(loyalty: str, value: str) -> str:
    """The action a chapter takes for a cell of the matrix (DOMAIN "Tiers and value")."""
    if loyalty == "C":
        return ACTIONS["C_high" if value in ("D", "G") else "C_low"]
    return ACTIONS[loyalty]


# --- settings -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    """The cut-offs in effect."""

    d_share_pct: int = DEFAULTS["d_share_pct"]
    g_share_pct: int = DEFAULTS["g_share_pct"]
    lost_months: int = DEFAULTS["lost_months"]
    service_interval_months: int = DEFAULTS["service_interval_months"]


def get_settings() -> Settings:
    """The effective settings: HQ's stored values over the defaults."""
    stored = dict(db.session.execute(sa.select(ChurnSetting.key, ChurnSetting.value)).all())
    return Settings(**{k: stored.get(k, v) for k, v in DEFAULTS.items()})


def setting_rows() -> list[dict]:
    """Each setting with its default, stored value, effective value and last change."""
    stored = {s.key: s for s in db.session.execute(sa.select(ChurnSetting)).scalars()}
    rows = []
    for key, default in DEFAULTS.items():
        s = stored.get(key)
        rows.append({"key": key, "label": SETTING_LABELS[key], "default": default,
                     "value": s.value if s else None,
                     "effective": s.value if s else default,
                     "updated_at": s.updated_at if s else None})
    return rows


def update_settings(data: dict, *, actor, ip: str | None = None) -> Settings:
    """Change HQ's cut-offs (keys of :data:`DEFAULTS`; ``None`` restores the default).

    Raises :class:`ValidationFailed` naming each bad field: shares are whole percents,
    at least 1, D + G below 100; months are 1–60 and the maintenance interval is
    shorter than the lost cut-off.
    """
    current = get_settings()
    wanted = {}
    errors: dict[str, list] = {}
    for key, default in DEFAULTS.items():
        if key not in data:
            wanted[key] = getattr(current, key)
            continue
        value = data[key]
        if value is None or value == "":
            wanted[key] = default
            continue
        try:
            wanted[key] = int(value)
        except (TypeError, ValueError):
            errors[key] = [_l("Enter a whole number.")]
            wanted[key] = default
    limits = {"d_share_pct": (1, 98), "g_share_pct": (1, 98), "lost_months": (1, 60),
              "service_interval_months": (1, 59)}
    for key, (lo, hi) in limits.items():
        if key not in errors and not lo <= wanted[key] <= hi:
            errors[key] = [_l("Enter a number from %(lo)s to %(hi)s.", lo=lo, hi=hi)]
    if not errors and wanted["d_share_pct"] + wanted["g_share_pct"] >= 100:
        errors["g_share_pct"] = [_l("D and G together must stay below 100%.")]
    if not errors and wanted["service_interval_months"] >= wanted["lost_months"]:
        errors["service_interval_months"] = [
            _l("The maintenance interval must be shorter than the lost cut-off.")]
    if errors:
        raise ValidationFailed(_l("Check the highlighted fields."), errors)
    changed = {}
    for key, default in DEFAULTS.items():
        row = db.session.get(ChurnSetting, key)
        if row is None:
            if wanted[key] == default:
                continue
            row = ChurnSetting(key=key, value=wanted[key])
            db.session.add(row)
        elif row.value == wanted[key]:
            continue
        changed[key] = {"from": getattr(current, key), "to": wanted[key]}
        row.value = wanted[key]
        row.updated_at = utcnow()
        row.updated_by_id = getattr(actor, "id", None)
    if changed:
        audit.record("churn_settings", actor=actor, ip=ip, target_type="churn_settings",
                     details=changed)
    db.session.flush()
    return get_settings()


# --- dates ---------------------------------------------------------------------------------

def months_before(d: date, months: int) -> date:
    """The same day ``months`` earlier, clamped to the month's last day (31 Mar − 1 = 28 Feb)."""
    y, m = divmod(d.year * 12 + d.month - 1 - months, 12)
    first = date(y, m + 1, 1)
    return first.replace(day=min(d.day, dates.month_end(first).day))


def as_of_for(month: date | None) -> date:
    """The report date of a month: its last day, or today for the current month."""
    today = dates.today()
    if month is None:
        return today
    return min(dates.month_end(month.replace(day=1)), today)


# --- the per-owner classification (one SQL statement) -------------------------------------

#: sort memory for the ranking statements (PostgreSQL's default 4 MB spilled the
#: largest chapter's window sorts to disk)
WORK_MEM = "32MB"


def no_jit() -> None:
    """Tune PostgreSQL for the ranking statements, for the rest of the transaction.

    JIT off: the statements below are estimated expensive enough to be JIT-compiled,
    which costs 60–150 ms of compilation for a run of a few hundred milliseconds
    (measured in ``bench/churn.py``); and :data:`WORK_MEM` so that the window sorts of
    a large chapter stay in memory. ``SET LOCAL`` ends with the transaction; a no-op
    elsewhere.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text(f"SET LOCAL jit = off; SET LOCAL work_mem = '{WORK_MEM}'"))


def classified(as_of: date, settings: Settings, *, chapter_id: int | None = None,
               chapter_ids: sa.Select | None = None, rfm: bool = True) -> sa.Subquery:
    """One row per owner of the population: spend, visits, last visit, segment, loyalty, RFM.

    ``chapter_id`` limits it to one chapter; without it every chapter (or those in
    ``chapter_ids``) is classified, each within its own chapter (windows partitioned
    by chapter). Columns: ``chapter_id, owner_id, last_visit, visits, spend, elsewhere,
    value, loyalty, r, f, m, population`` (R, F, M only with ``rfm``: the matrix does
    without their sorts; ``population``: the owners classified in the chapter).

    What keeps a large chapter fast on PostgreSQL (``bench/churn.py``): the chapter's
    visits are read from the covering index ``ix_service_visits_churn`` alone (no table
    row: hence ``count(*)``, not ``count(id)``); the windows sort the spend as a
    ``BIGINT`` (PostgreSQL's ``sum`` is a ``NUMERIC``); the "serviced elsewhere" probes
    run only for the owners who would otherwise be A and whose key another chapter's
    owner also holds (``shared_person_keys``: a few hundred of a large chapter's tens of
    thousands), and read the person indexes ``ix_owners_person_*`` alone (the other
    owner's chapter and id are in the index), for one chapter as one set-based probe per
    person key.
    """
    v, o = ServiceVisit.__table__, Owner.__table__
    window_start = months_before(as_of, VALUE_WINDOW_MONTHS)
    lost_cut = months_before(as_of, settings.lost_months)
    due_cut = months_before(as_of, settings.service_interval_months)

    in_window = v.c.visit_date > window_start
    # an integer (PostgreSQL's ``sum`` of a BIGINT is a NUMERIC): cheaper keys to sort
    spend = sa.cast(sa.func.coalesce(sa.func.sum(v.c.amount_fen).filter(in_window), 0),
                    sa.BigInteger)
    where = [v.c.visit_date <= as_of]
    if chapter_id is not None:
        where.append(v.c.chapter_id == chapter_id)
    elif chapter_ids is not None:
        where.append(v.c.chapter_id.in_(chapter_ids))
    stats = (
        sa.select(
            v.c.chapter_id, v.c.owner_id,
            sa.func.max(v.c.visit_date).label("last_visit"),
            sa.func.count().filter(in_window).label("visits"),
            spend.label("spend"),
        ).where(*where).group_by(v.c.chapter_id, v.c.owner_id)
    ).subquery("owner_stats")

    # the chapter's predicate on the owners too, so the planner reads only its owners
    o_self, o2, v2 = o.alias("o_self"), o.alias("o_other"), v.alias("v_other")
    owner_where = []
    if chapter_id is not None:
        owner_where.append(o_self.c.chapter_id == chapter_id)
    elif chapter_ids is not None:
        owner_where.append(o_self.c.chapter_id.in_(chapter_ids))
    people = (
        sa.select(stats, o_self.c.mobile, o_self.c.id_number_digest)
        .select_from(stats.join(o_self, sa.and_(o_self.c.chapter_id == stats.c.chapter_id,
                                                o_self.c.id == stats.c.owner_id)))
        .where(*owner_where))
    # the same person, an owner of another chapter, serviced there in the lost window
    visited_there = sa.exists(
        sa.select(sa.literal(1)).select_from(v2)
        .where(v2.c.chapter_id == o2.c.chapter_id, v2.c.owner_id == o2.c.id,
               v2.c.visit_date > lost_cut, v2.c.visit_date <= as_of))
    # only an owner who would otherwise be on schedule (A) needs the lookup
    if chapter_id is not None and db.session.get_bind().dialect.name == "postgresql":
        # One chapter on PostgreSQL: one index scan per person key for all the
        # candidates at once (``key = ANY(ARRAY(...))``, the keys sorted), instead of a
        # correlated look-up per owner; then a hashed ``IN`` of the few keys found.
        people = people.cte("people")

        def elsewhere_by(kind: str, col: str):
            keys = (sa.select(people.c[col])
                    .where(people.c.last_visit > due_cut,
                           people.c[col].in_(person_keys.shared_keys(kind)))
                    .order_by(sa.collate(people.c[col], "C")))
            found = sa.select(o2.c[col]).where(
                bytewise(o2.c[col]) == sa.any_(sa.func.array(keys.scalar_subquery())),
                o2.c.chapter_id != chapter_id, visited_there)
            return people.c[col].in_(found)
    else:
        people = people.subquery("people")

        def elsewhere_by(kind: str, col: str):
            return sa.and_(
                people.c[col].in_(person_keys.shared_keys(kind)),
                sa.exists(
                    sa.select(sa.literal(1)).select_from(o2)
                    .where(bytewise(o2.c[col]) == people.c[col],
                           o2.c.chapter_id != people.c.chapter_id,
                           visited_there)))

    # only a key another chapter's owner also holds (``shared_person_keys``) is probed
    elsewhere = sa.and_(people.c.last_visit > due_cut,
                        sa.or_(*[elsewhere_by(kind, col) for kind, col in PERSON_KEYS.items()]))
    # the flag first, so that the window sorts below carry narrow rows (not the person keys)
    flagged = sa.select(
        people.c.chapter_id, people.c.owner_id, people.c.last_visit, people.c.visits,
        people.c.spend, sa.case((elsewhere, True), else_=False).label("elsewhere"))
    flagged = (flagged.cte("flagged").prefix_with("MATERIALIZED")
               if isinstance(people, sa.CTE) else flagged.subquery("flagged"))

    part = flagged.c.chapter_id
    n = sa.func.count().over(partition_by=part)
    # owners spending at least as much (peers included): the value segment, and the M score
    at_least = sa.func.count().over(partition_by=part, order_by=flagged.c.spend.desc())

    def quintile(rank):
        """1–5 from a rank (1 = the lowest): ``1 + 5 × (rank − 1) ÷ n``."""
        return sa.literal(1) + (sa.literal(5) * (rank - 1)) // n

    def rank_of(col):
        return sa.func.rank().over(partition_by=part, order_by=col.asc())

    ranked = (
        sa.select(
            flagged.c.chapter_id, flagged.c.owner_id, flagged.c.last_visit, flagged.c.visits,
            flagged.c.spend, flagged.c.elsewhere, n.label("n"), at_least.label("at_least"),
            # M: the rank by spend ascending is 1 + (n − at_least): no sort of its own
            *([quintile(rank_of(flagged.c.last_visit)).label("r"),
               quintile(rank_of(flagged.c.visits)).label("f"),
               quintile(sa.literal(1) + n - at_least).label("m")] if rfm else []),
        )
    ).subquery("ranked")

    d_pct, dg_pct = settings.d_share_pct, settings.d_share_pct + settings.g_share_pct
    value = sa.case(
        (ranked.c.at_least * 100 <= ranked.c.n * d_pct, "D"),
        (ranked.c.at_least * 100 <= ranked.c.n * dg_pct, "G"),
        else_="S")
    loyalty = sa.case(
        (ranked.c.last_visit <= lost_cut, "C"),
        (sa.and_(ranked.c.last_visit > due_cut, ranked.c.elsewhere == sa.false()), "A"),
        else_="B")
    return sa.select(
        ranked.c.chapter_id, ranked.c.owner_id, ranked.c.last_visit, ranked.c.visits,
        ranked.c.spend, ranked.c.elsewhere, value.label("value"), loyalty.label("loyalty"),
        *([sa.cast(ranked.c[k], sa.Integer).label(k) for k in ("r", "f", "m")] if rfm else []),
        ranked.c.n.label("population"),
    ).subquery("classified")


# --- the matrix ----------------------------------------------------------------------------

@dataclass
class Cell:
    loyalty: str
    value: str
    owners: int = 0
    spend: int = 0

    @property
    def action(self) -> str:
        return action_for(self.loyalty, self.value)


@dataclass
class Matrix:
    """The 3×3 matrix of one chapter, region or the nation, as of a date."""

    as_of: date
    settings: Settings
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)
    key: int | None = None
    code: str = ""
    name: str = ""

    def cell(self, loyalty: str, value: str) -> Cell:
        return self.cells.setdefault((loyalty, value), Cell(loyalty, value))

    @property
    def total(self) -> int:
        return sum(c.owners for c in self.cells.values())

    def loyalty_total(self, loyalty: str) -> int:
        return sum(self.cell(loyalty, v).owners for v in VALUES)

    def value_total(self, value: str) -> int:
        return sum(self.cell(a, value).owners for a in LOYALTIES)

    def as_list(self) -> list[Cell]:
        return [self.cell(a, v) for a in LOYALTIES for v in VALUES]


def _empty(as_of: date, settings: Settings, **kw) -> Matrix:
    m = Matrix(as_of=as_of, settings=settings, **kw)
    for a in LOYALTIES:
        for v in VALUES:
            m.cell(a, v)
    return m


def chapter_matrix(chapter_id: int, as_of: date, settings: Settings | None = None) -> Matrix:
    """The chapter's matrix: owners per loyalty × value cell, with their spend."""
    settings = settings or get_settings()
    no_jit()
    c = classified(as_of, settings, chapter_id=chapter_id, rfm=False)
    matrix = _empty(as_of, settings, key=chapter_id)
    for loyalty, value, n, spend in db.session.execute(
            sa.select(c.c.loyalty, c.c.value, sa.func.count(), sa.func.sum(c.c.spend))
            .group_by(c.c.loyalty, c.c.value)).all():
        cell = matrix.cell(loyalty, value)
        cell.owners, cell.spend = n, int(spend or 0)
    return matrix


GROUPS = ("chapter", "region")


def hq_matrices(as_of: date, *, group: str = "chapter", region_id: int | None = None,
                settings: Settings | None = None) -> tuple[list[Matrix], Matrix]:
    """HQ's matrices per chapter (or per region), and their total; segments stay per chapter.

    Reads every chapter's owners (or one region's): call it inside ``unscoped(...)``
    when a tenant scope is open (the statements are Core, so nothing is filtered).
    """
    if group not in GROUPS:
        raise field_error("group", _l("Group by chapter or region."))
    settings = settings or get_settings()
    ch, d = Chapter.__table__, Dealer.__table__
    chapter_ids = None
    if region_id is not None:
        chapter_ids = (sa.select(ch.c.id).join(d, d.c.id == ch.c.dealer_id)
                       .where(d.c.region_id == region_id))
    no_jit()
    c = classified(as_of, settings, chapter_ids=chapter_ids, rfm=False)
    joined = c.join(ch, ch.c.id == c.c.chapter_id).join(d, d.c.id == ch.c.dealer_id)
    key = d.c.region_id if group == "region" else c.c.chapter_id
    out: dict[int, Matrix] = {}
    total = _empty(as_of, settings)
    for k, loyalty, value, n, spend in db.session.execute(
            sa.select(key, c.c.loyalty, c.c.value, sa.func.count(), sa.func.sum(c.c.spend))
            .select_from(joined).group_by(key, c.c.loyalty, c.c.value)).all():
        m = out.setdefault(k, _empty(as_of, settings, key=k))
        m.cell(loyalty, value).owners = n
        m.cell(loyalty, value).spend = int(spend or 0)
        total.cell(loyalty, value).owners += n
        total.cell(loyalty, value).spend += int(spend or 0)
    _name(out, group)
    rows = sorted(out.values(), key=lambda m: (m.code, m.key or 0))
    return rows, total


# --- month-end snapshots (HQ reads these) ---------------------------------------------------

def last_complete_month(today: date | None = None) -> date:
    """The first day of the month just ended (Asia/Shanghai)."""
    today = today or dates.today()
    return months_before(today.replace(day=1), 1)


def write_snapshot(chapter_id: int, month: date) -> Matrix:
    """Compute the chapter's matrix as of the month's last day and keep it (replacing any).

    Idempotent: a rerun replaces the month's nine rows with the same figures, unless the
    visits or the settings changed meanwhile (a re-snapshot is then the correction).
    """
    first = month.replace(day=1)
    as_of = dates.month_end(first)
    if as_of >= dates.today():
        raise field_error("month", _l("Only a month that has ended can be kept."))
    settings = get_settings()
    matrix = chapter_matrix(chapter_id, as_of, settings)
    t = ChurnSnapshot.__table__
    db.session.execute(t.delete().where(t.c.chapter_id == chapter_id, t.c.month == first))
    now = utcnow()
    db.session.execute(t.insert(), [
        {"chapter_id": chapter_id, "month": first, "as_of": as_of, "loyalty": c.loyalty,
         "value": c.value, "owners": c.owners, "spend_fen": c.spend,
         "settings": asdict(settings), "computed_at": now} for c in matrix.as_list()])
    db.session.flush()
    return matrix


def hq_snapshot_matrices(month: date, *, group: str = "chapter",
                         region_id: int | None = None) -> tuple[list[Matrix], Matrix, int]:
    """HQ's matrices of a month from the snapshots: per chapter or region, the total, and
    how many chapters have a snapshot of the month (Core, explicit chapter predicates)."""
    if group not in GROUPS:
        raise field_error("group", _l("Group by chapter or region."))
    first = month.replace(day=1)
    as_of = dates.month_end(first)
    ch, d = Chapter.__table__, Dealer.__table__
    t = ChurnSnapshot.__table__
    joined = t.join(ch, ch.c.id == t.c.chapter_id).join(d, d.c.id == ch.c.dealer_id)
    where = [t.c.month == first]
    if region_id is not None:
        where.append(d.c.region_id == region_id)
    key = d.c.region_id if group == "region" else t.c.chapter_id
    settings = get_settings()
    out: dict[int, Matrix] = {}
    total = _empty(as_of, settings)
    for k, loyalty, value, n, spend in db.session.execute(
            sa.select(key, t.c.loyalty, t.c.value, sa.func.sum(t.c.owners),
                      sa.func.sum(t.c.spend_fen))
            .select_from(joined).where(*where).group_by(key, t.c.loyalty, t.c.value)).all():
        m = out.setdefault(k, _empty(as_of, settings, key=k))
        m.cell(loyalty, value).owners = int(n)
        m.cell(loyalty, value).spend = int(spend or 0)
        total.cell(loyalty, value).owners += int(n)
        total.cell(loyalty, value).spend += int(spend or 0)
    chapters = db.session.execute(
        sa.select(sa.func.count(sa.distinct(t.c.chapter_id))).select_from(joined)
        .where(*where)).scalar_one()
    _name(out, group)
    return sorted(out.values(), key=lambda m: (m.code, m.key or 0)), total, chapters


def _name(out: dict[int, Matrix], group: str) -> None:
    if not out:
        return
    ch, d, r = Chapter.__table__, Dealer.__table__, Region.__table__
    if group == "region":
        names = db.session.execute(
            sa.select(r.c.id, r.c.code, r.c.name_zh).where(r.c.id.in_(list(out)))).all()
    else:
        names = db.session.execute(
            sa.select(ch.c.id, d.c.code, ch.c.name).join(d, d.c.id == ch.c.dealer_id)
            .where(ch.c.id.in_(list(out)))).all()
    for k, code, name in names:
        out[k].code, out[k].name = code or "", name or ""


def hq_view(month: date, region_id: int | None) -> dict:
    """What HQ's churn page and API show for a month, and where it comes from.

    A month that has ended is read from the month-end snapshots (the monthly job);
    the current month is computed live, one region at a time (ranking every owner of
    the country takes close to a minute at national scale).
    """
    group = "chapter" if region_id is not None else "region"
    if month < as_of_for(None).replace(day=1):
        rows, total, chapters = hq_snapshot_matrices(month, group=group,
                                                             region_id=region_id)
        return {"source": "snapshot", "group": group, "rows": rows, "total": total,
                "chapters": chapters, "as_of": total.as_of}
    if region_id is None:
        return {"source": "live", "group": group, "rows": [], "total": None, "chapters": 0,
                "as_of": as_of_for(month)}
    as_of = as_of_for(month)
    with unscoped("HQ churn matrices of one region's chapters"):
        rows, total = hq_matrices(as_of, group=group, region_id=region_id)
    return {"source": "live", "group": group, "rows": rows, "total": total,
            "chapters": len(rows), "as_of": as_of}


# --- the owners behind a cell, with RFM ----------------------------------------------------

def _complaints_hook():
    """``chapter.complaints.service.open_complaint_owner_ids(chapter_id)`` when it exists.

    The complaints capability provides a select of the owner ids with an open complaint
    in the chapter; until it exists, nobody is flagged.
    """
    try:
        module = importlib.import_module("chapter.complaints.service")
    except ImportError:
        return None
    return getattr(module, "open_complaint_owner_ids", None)


def open_complaint_owner_ids(chapter_id: int):
    """A select of owner ids with an open complaint, or ``None`` (no complaints module)."""
    hook = _complaints_hook()
    return hook(chapter_id) if hook else None


def check_cell(loyalty: str | None, value: str | None) -> None:
    if loyalty is not None and loyalty not in LOYALTIES:
        raise field_error("loyalty", _l("Choose A, B or C."))
    if value is not None and value not in VALUES:
        raise field_error("value", _l("Choose D, G or S."))


def owners_query(chapter_id: int, as_of: date, *, loyalty: str | None = None,
                 value: str | None = None, settings: Settings | None = None) -> sa.Select:
    """The owners of the chapter's population (of one cell if given), biggest spend first.

    Rows: owner id, name, mobile, kind, last visit, visits and spend in the window, segment, loyalty, R, F, M,
    ``elsewhere`` (came back on schedule but was also serviced at another dealer: the
    reason such an owner is B) and ``open_complaint``.
    """
    check_cell(loyalty, value)
    settings = settings or get_settings()
    c = classified(as_of, settings, chapter_id=chapter_id)
    o = Owner.__table__
    # the cell and the count first, so that a page joins the owners' names of its own
    # rows only (not of every owner scored)
    where = []
    if loyalty is not None:
        where.append(c.c.loyalty == loyalty)
    if value is not None:
        where.append(c.c.value == value)
    # the whole population is counted already (its chapter's window); a cell is counted here
    total = sa.func.count().over() if where else c.c.population
    cell = sa.select(c, total.label("total_rows")).where(*where).subquery("cell")
    complaints = open_complaint_owner_ids(chapter_id)
    flagged = (cell.c.owner_id.in_(complaints) if complaints is not None else sa.false())

    def owner_field(col: str):
        # a look-up per row returned, evaluated after the sort and the page's LIMIT
        return (sa.select(o.c[col]).where(o.c.chapter_id == cell.c.chapter_id,
                                          o.c.id == cell.c.owner_id)
                .scalar_subquery().label(col))

    return (
        sa.select(
            cell.c.owner_id, owner_field("name"), owner_field("mobile"), owner_field("kind"),
            cell.c.last_visit, cell.c.visits, cell.c.spend, cell.c.value, cell.c.loyalty,
            cell.c.r, cell.c.f, cell.c.m, cell.c.elsewhere,
            sa.case((flagged, True), else_=False).label("open_complaint"),
            cell.c.total_rows,
        )
        .order_by(cell.c.spend.desc(), cell.c.owner_id)
    )


@dataclass
class OwnerPage:
    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def owners_page(chapter_id: int, query: sa.Select, page: int = 1,
                per_page: int = 50) -> OwnerPage:
    """One page of :func:`owners_query` (count and page both in SQL)."""
    page = max(1, page)
    no_jit()
    items = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).mappings().all()
    if items:
        total = items[0]["total_rows"]
    else:  # past the last page (or empty): count on its own
        total = db.session.execute(sa.select(sa.func.count()).select_from(
            query.order_by(None).subquery())).scalar_one()
    return OwnerPage(items=with_members(chapter_id, items), total=total, page=page,
                     per_page=per_page)


def with_members(chapter_id: int, rows) -> list[dict]:
    """The rows with ``member_id`` and ``member_number`` of the owners who are members.

    A separate look-up by the rows' owner ids: joined into the ranking statement, the
    planner misjudges the cell's size and probes the members once per owner.
    """
    m = Member.__table__
    ids = [r["owner_id"] for r in rows]
    found = {}
    for start in range(0, len(ids), 1000):
        found.update({owner_id: (mid, number) for owner_id, mid, number in db.session.execute(
            sa.select(m.c.owner_id, m.c.id, m.c.member_number)
            .where(m.c.chapter_id == chapter_id, m.c.status != "left",
                   m.c.owner_id.in_(ids[start:start + 1000]))).all()})
    tasks = open_care_tasks(chapter_id, ids)
    out = []
    for r in rows:
        mid, number = found.get(r["owner_id"], (None, None))
        out.append({**r, "member_id": mid, "member_number": number,
                    "care_task_id": tasks.get(r["owner_id"])})
    return out


def open_care_tasks(chapter_id: int, owner_ids: list[int]) -> dict[int, int]:
    """The next open care-list task of each owner (chapter/care), if the care list exists."""
    try:
        task = importlib.import_module("chapter.care.models").CareTask.__table__
    except (ImportError, AttributeError):
        return {}
    found: dict[int, int] = {}
    for start in range(0, len(owner_ids), 1000):
        found.update(dict(db.session.execute(
            sa.select(task.c.owner_id, sa.func.min(task.c.id))
            .where(task.c.chapter_id == chapter_id, task.c.status == "open",
                   task.c.owner_id.in_(owner_ids[start:start + 1000]))
            .group_by(task.c.owner_id)).all()))
    return found


def rfm_distribution(chapter_id: int, as_of: date, settings: Settings | None = None) -> dict:
    """How many owners have each R, F and M score (1–5)."""
    no_jit()
    c = classified(as_of, settings or get_settings(), chapter_id=chapter_id)
    out = {k: dict.fromkeys(range(1, 6), 0) for k in ("r", "f", "m")}
    # one statement (at most 125 R × F × M groups), summed per score here
    for r, f, m, n in db.session.execute(
            sa.select(c.c.r, c.c.f, c.c.m, sa.func.count()).group_by(c.c.r, c.c.f, c.c.m)).all():
        for k, score in (("r", r), ("f", f), ("m", m)):
            out[k][int(score)] += n
    return out


# --- the churn trend -----------------------------------------------------------------------

@dataclass
class TrendPoint:
    month: date
    as_of: date
    owners: int
    lost: int

    @property
    def lost_share(self) -> float:
        return round(100.0 * self.lost / self.owners, 1) if self.owners else 0.0


def month_range(last_month: date, months: int) -> list[date]:
    """The first days of ``months`` months ending with ``last_month`` (oldest first)."""
    if not 1 <= months <= 36:
        raise field_error("months", _l("Choose from 1 to 36 months."))
    first = last_month.replace(day=1)
    out = []
    for i in range(months - 1, -1, -1):
        out.append(months_before(first, i).replace(day=1))
    return out


def churn_trend(chapter_id: int, last_month: date, months: int = 12,
                settings: Settings | None = None) -> list[TrendPoint]:
    """The share of lost owners (C) as of each month end, from the visit history, in SQL.

    One pass over the chapter's visits in owner and date order (the covering index
    ``ix_service_visits_churn``), each with the owner's previous and next visit:
    an owner is in the population of month end *M* from their first visit on, and lost
    at *M* exactly when one of their visits is on or before *M*'s cut-off and the next
    one (if any) is after *M* (then it is the last visit by *M*, 12 months old or more).
    """
    settings = settings or get_settings()
    firsts = month_range(last_month, months)
    no_jit()
    ends = [as_of_for(f) for f in firsts]
    cuts = [months_before(end, settings.lost_months) for end in ends]
    v = ServiceVisit.__table__
    order = {"partition_by": v.c.owner_id, "order_by": v.c.visit_date}
    seq = (
        sa.select(v.c.owner_id, v.c.visit_date,
                  sa.func.lag(v.c.visit_date).over(**order).label("prev_visit"),
                  sa.func.lead(v.c.visit_date).over(**order).label("next_visit"))
        .where(v.c.chapter_id == chapter_id, v.c.visit_date <= max(ends))
    ).subquery("seq")
    first = seq.c.prev_visit.is_(None)
    counts = []
    for end, cut in zip(ends, cuts, strict=True):
        counts.append(sa.func.count().filter(sa.and_(first, seq.c.visit_date <= end)))
        counts.append(sa.func.count().filter(sa.and_(
            seq.c.visit_date <= cut,
            sa.or_(seq.c.next_visit.is_(None), seq.c.next_visit > end))))
    # only first visits and visits that can be the last one, 12 months old, of a month end
    relevant = sa.or_(first, sa.and_(
        seq.c.visit_date <= max(cuts),
        sa.or_(seq.c.next_visit.is_(None), seq.c.next_visit > min(ends))))
    row = db.session.execute(sa.select(*counts).where(relevant)).one()
    return [TrendPoint(month=f, as_of=e, owners=row[2 * i], lost=row[2 * i + 1])
            for i, (f, e) in enumerate(zip(firsts, ends, strict=True))]


# --- exports -------------------------------------------------------------------------------

@dataclass
class ExportFile:
    content: bytes
    mimetype: str
    filename: str


def owner_rows(chapter_id: int, query: sa.Select) -> tuple[list[str], list[list]]:
    headers = [str(h) for h in (
        _l("Owner ID"), _l("Name"), _l("Mobile"), _l("Member number"), _l("Last visit"),
        _l("Visits (24 months)"), _l("Spend (CNY, 24 months)"), _l("Value"), _l("Loyalty"),
        _l("R"), _l("F"), _l("M"), _l("Also serviced elsewhere"), _l("Open complaint"),
        _l("Action"))]
    rows = []
    for r in with_members(chapter_id, db.session.execute(query).mappings().all()):
        rows.append([r["owner_id"], r["name"], r["mobile"] or "", r["member_number"] or "",
                     r["last_visit"], r["visits"], round(r["spend"] / 100, 2), r["value"],
                     r["loyalty"], r["r"], r["f"], r["m"],
                     "Y" if r["elsewhere"] else "", "Y" if r["open_complaint"] else "",
                     str(action_for(r["loyalty"], r["value"]))])
    return headers, rows


def export_owners(chapter_id: int, as_of: date, *, loyalty: str | None, value: str | None,
                  fmt: str, actor, ip: str | None = None) -> ExportFile:
    """The owners of a cell (or all) as CSV (UTF-8 with BOM) or XLSX; the export is audited."""
    if fmt not in EXPORT_FORMATS:
        raise field_error("format", _l("Choose CSV or XLSX."))
    no_jit()
    headers, rows = owner_rows(chapter_id,
                               owners_query(chapter_id, as_of, loyalty=loyalty, value=value))
    cell = f"-{loyalty or 'all'}{value or 'all'}" if (loyalty or value) else ""
    stem = f"churn-owners-c{chapter_id}-{as_of:%Y-%m-%d}{cell}"
    if fmt == "csv":
        body, mimetype, name = (to_csv(headers, rows), "text/csv; charset=utf-8", f"{stem}.csv")
    else:
        body = to_xlsx(headers, rows, title=str(_l("Churn")))
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        name = f"{stem}.xlsx"
    audit.record("export", actor=actor, ip=ip, chapter_id=chapter_id,
                 target_type="churn_owners",
                 details={"as_of": as_of.isoformat(), "loyalty": loyalty, "value": value,
                          "format": fmt, "rows": len(rows)})
    return ExportFile(body, mimetype, name)


def parse_cell_args(loyalty: str | None, value: str | None) -> tuple[str | None, str | None]:
    """Blank → None; upper-cased; refused with the field named when unknown."""
    loyalty = (loyalty or "").strip().upper() or None
    value = (value or "").strip().upper() or None
    check_cell(loyalty, value)
    return loyalty, value

