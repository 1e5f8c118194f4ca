"""Regions, dealers and chapters: the organisation HQ manages."""

from __future__ import annotations

import re
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from clubplatform import dates
from clubplatform.audit import service as audit
from clubplatform.errors import Conflict, NotFound, ValidationFailed, field_error
from clubplatform.extensions import db
from clubplatform.org.models import Chapter, Dealer, DealerAfterSalesPeriod, Region
from clubplatform.tabular import ImportReport, RowError, Table, iter_records, map_headers

DEALER_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,15}$")
REGION_CODE = re.compile(r"^[A-Z]{2,8}$")

#: column names accepted by the dealer import, by field
DEALER_ALIASES = {
    "code": ("经销商代码", "经销商编码", "代码", "dealer code", "dealer_code"),
    "name": ("经销商名称", "名称", "经销商", "dealer name", "dealer"),
    "region": ("大区", "区域", "region code", "rbo"),
    "city": ("城市", "所在城市"),
    "full_after_sales_since": ("完整售后日期", "具备完整售后功能日期", "售后开通日期",
                               "full after-sales since", "after sales since"),
    "closed_on": ("停业日期", "closed"),
}


# --- regions -----------------------------------------------------------------------

def list_regions() -> list[Region]:
    return list(db.session.execute(sa.select(Region).order_by(Region.code)).scalars())


def get_region(region_id: int) -> Region:
    region = db.session.get(Region, region_id)
    if region is None:
        raise NotFound(_l("No such region."))
    return region


def save_region(*, code: str, name_zh: str, name_en: str, region: Region | None = None,
                actor=None, ip: str | None = None) -> Region:
    code = (code or "").strip().upper()
    if not REGION_CODE.match(code):
        raise field_error("code", _l("Use 2 to 8 capital letters, e.g. BJ."))
    if not (name_zh or "").strip():
        raise field_error("name_zh", _l("Enter the Chinese name."))
    other = db.session.execute(sa.select(Region).where(Region.code == code)).scalar_one_or_none()
    if other is not None and other is not region:
        raise field_error("code", _l("Region code %(code)s already exists.", code=code), Conflict)
    if region is None:
        region = Region(code=code)
        db.session.add(region)
    region.code = code
    region.name_zh = name_zh.strip()
    region.name_en = (name_en or "").strip() or code
    db.session.flush()
    audit.record("region_saved", actor=actor, ip=ip, target_type="region", target_id=region.id,
                 details={"code": code})
    return region


# --- dealers -----------------------------------------------------------------------

def dealer_query(*, q: str | None = None, region_id: int | None = None,
                 has_chapter: bool | None = None) -> sa.Select:
    stmt = sa.select(Dealer).order_by(Dealer.code)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(sa.or_(Dealer.code.ilike(like), Dealer.name.ilike(like),
                                 Dealer.city.ilike(like)))
    if region_id:
        stmt = stmt.where(Dealer.region_id == region_id)
    if has_chapter is not None:
        sub = sa.select(Chapter.id).where(Chapter.dealer_id == Dealer.id).exists()
        stmt = stmt.where(sub if has_chapter else ~sub)
    return stmt


def get_dealer(dealer_id: int) -> Dealer:
    dealer = db.session.get(Dealer, dealer_id)
    if dealer is None:
        raise NotFound(_l("No such dealer."))
    return dealer


def _validate_dealer(data: dict, dealer: Dealer | None) -> dict:
    errors: dict[str, list] = {}
    conflict = False
    code = str(data.get("code") or "").strip().upper()
    if not DEALER_CODE.match(code):
        errors.setdefault("code", []).append(
            _l("Use 2 to 16 capital letters, digits or dashes, e.g. BJ-001."))
    name = str(data.get("name") or "").strip()
    if not name:
        errors.setdefault("name", []).append(_l("Enter the dealer's name."))
    region_id = data.get("region_id")
    if not region_id or db.session.get(Region, region_id) is None:
        errors.setdefault("region_id", []).append(_l("Choose a region."))
    since = data.get("full_after_sales_since")
    until = data.get("full_after_sales_until")
    closed_on = data.get("closed_on")
    today = dates.today()
    if since and since > today:
        errors.setdefault("full_after_sales_since", []).append(_l("The date is in the future."))
    if until and not since:
        errors.setdefault("full_after_sales_until", []).append(
            _l("Give the date full after-sales started first."))
    elif until and since and until < since:
        errors.setdefault("full_after_sales_until", []).append(
            _l("The end is before the start."))
    if code and DEALER_CODE.match(code):
        other = db.session.execute(sa.select(Dealer).where(Dealer.code == code)).scalar_one_or_none()
        if other is not None and other is not dealer:
            conflict = True
            errors.setdefault("code", []).append(
                _l("Dealer code %(code)s already exists.", code=code))
    if dealer is not None and dealer.chapter is not None and dealer.chapter.active:
        ch = dealer.chapter
        if not since or since > ch.founded_on or (until and until < today):
            errors.setdefault("full_after_sales_since", []).append(_l(
                "The dealer's chapter needs full after-sales since its founding; "
                "close the chapter first."))
        if closed_on:
            errors.setdefault("closed_on", []).append(
                _l("Close the dealer's chapter before closing the dealer."))
    if errors:
        first = next(iter(errors.values()))[0]
        raise (Conflict if conflict else ValidationFailed)(first, errors)
    return {"code": code, "name": name, "region_id": region_id,
            "city": str(data.get("city") or "").strip(),
            "full_after_sales_since": since, "full_after_sales_until": until,
            "closed_on": closed_on}


def save_dealer(data: dict, *, dealer: Dealer | None = None, actor=None,
                ip: str | None = None) -> Dealer:
    """Create or update a dealer from validated form/API data."""
    clean = _validate_dealer(data, dealer)
    created = dealer is None
    if dealer is None:
        dealer = Dealer()
        db.session.add(dealer)
    for k, v in clean.items():
        setattr(dealer, k, v)
    db.session.flush()  # the after-sales history follows (clubplatform.org.models)
    audit.record("dealer_saved", actor=actor, ip=ip, target_type="dealer", target_id=dealer.id,
                 details={"code": dealer.code, "created": created})
    return dealer


def after_sales_history(dealer: Dealer) -> list[DealerAfterSalesPeriod]:
    """The dealer's periods with full after-sales function, oldest first."""
    return list(db.session.execute(
        sa.select(DealerAfterSalesPeriod).where(DealerAfterSalesPeriod.dealer_id == dealer.id)
        .order_by(DealerAfterSalesPeriod.valid_from)).scalars())


def _parse_date(value) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    s = str(value).strip().replace("/", "-").replace(".", "-")
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.strptime(s, fmt).date()
        except ValueError:
            continue
    raise ValueError(s)


def import_dealers(table: Table, *, progress=None, batch: int = 200) -> ImportReport:
    """Upsert dealers by code from a table; every bad row is reported, good rows kept.

    Each row runs in its own savepoint, so a row refused by the database never
    undoes the others. Re-importing the same file changes nothing.
    """
    mapping = map_headers(table.headers, DEALER_ALIASES)
    report = ImportReport()
    missing = [f for f in ("code", "name", "region") if f not in mapping]
    if missing:
        msg = _l("Missing column(s): %(cols)s.", cols=", ".join(missing))
        raise ValidationFailed(msg, {"file": [msg]})
    regions = {r.code: r.id for r in list_regions()}
    regions.update({r.name_zh: r.id for r in list_regions()})
    records = list(iter_records(table, mapping))
    report.total = len(records)
    for i, (rowno, rec) in enumerate(records, 1):
        _import_dealer_row(rowno, rec, regions, report)
        if progress and (i % batch == 0 or i == report.total):
            progress(i, report.total)
    return report


def _import_dealer_row(rowno: int, rec: dict, regions: dict, report: ImportReport) -> None:
    data = {"code": rec.get("code"), "name": rec.get("name"), "city": rec.get("city")}
    region_key = str(rec.get("region") or "").strip()
    data["region_id"] = regions.get(region_key.upper()) or regions.get(region_key)
    if not data["region_id"]:
        report.errors.append(RowError(rowno, "region", str(_l("Unknown region %(r)s.", r=region_key))))
        return
    for fld in ("full_after_sales_since", "closed_on"):
        try:
            data[fld] = _parse_date(rec.get(fld))
        except ValueError:
            report.errors.append(RowError(rowno, fld, str(_l("Not a date (use YYYY-MM-DD)."))))
            return
    code = str(data["code"] or "").strip().upper()
    existing = db.session.execute(sa.select(Dealer).where(Dealer.code == code)).scalar_one_or_none()
    if existing is not None:
        data["full_after_sales_until"] = existing.full_after_sales_until
        same = (existing.name == str(data["name"] or "").strip()
                and existing.region_id == data["region_id"]
                and (existing.city or "") == str(data["city"] or "").strip()
                and existing.full_after_sales_since == data["full_after_sales_since"]
                and existing.closed_on == data["closed_on"])
        if same:
            report.unchanged += 1
            return
    try:
        with db.session.begin_nested():
            save_dealer(data, dealer=existing)
    except ValidationFailed as exc:
        for fld, msgs in exc.fields.items():
            for m in msgs:
                report.errors.append(RowError(rowno, fld, str(m)))
        return
    if existing is None:
        report.created += 1
    else:
        report.updated += 1


# --- chapters ----------------------------------------------------------------------

def chapter_query(*, q: str | None = None, region_id: int | None = None,
                  active: bool | None = None) -> sa.Select:
    stmt = sa.select(Chapter).join(Chapter.dealer).order_by(Dealer.code)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(sa.or_(Chapter.name.ilike(like), Dealer.code.ilike(like),
                                 Dealer.name.ilike(like)))
    if region_id:
        stmt = stmt.where(Dealer.region_id == region_id)
    if active is True:
        stmt = stmt.where(Chapter.closed_on.is_(None))
    elif active is False:
        stmt = stmt.where(Chapter.closed_on.is_not(None))
    return stmt


def get_chapter(chapter_id: int) -> Chapter:
    chapter = db.session.get(Chapter, chapter_id)
    if chapter is None:
        raise NotFound(_l("No such chapter."))
    return chapter


def open_chapter(*, dealer_id: int, name: str, founded_on: date, actor=None,
                 ip: str | None = None) -> Chapter:
    """Found a dealer's chapter: one per dealer, only with full after-sales on that date."""
    dealer = db.session.get(Dealer, dealer_id) if dealer_id else None
    if dealer is None:
        raise field_error("dealer_id", _l("Choose a dealer."))
    if not (name or "").strip():
        raise field_error("name", _l("Enter the chapter's name."))
    if founded_on is None:
        raise field_error("founded_on", _l("Enter the founding date."))
    if founded_on > dates.today():
        raise field_error("founded_on", _l("The founding date is in the future."))
    if dealer.chapter is not None:
        raise field_error("dealer_id", _l("Dealer %(code)s already has a chapter.", code=dealer.code),
                          Conflict)
    if dealer.closed_on is not None:
        raise field_error("dealer_id", _l("Dealer %(code)s is closed.", code=dealer.code))
    if not dealer.has_full_after_sales(founded_on):
        raise field_error("dealer_id", _l(
            "Dealer %(code)s did not have full after-sales function on %(day)s; "
            "a chapter can only be founded at such a dealer.",
            code=dealer.code, day=founded_on.isoformat()))
    chapter = Chapter(dealer_id=dealer.id, name=name.strip(), founded_on=founded_on)
    db.session.add(chapter)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except sa.exc.IntegrityError as exc:
        # a concurrent request founded one first, or the database trigger refused it
        raise field_error("dealer_id", _l("Dealer %(code)s already has a chapter.",
                                          code=dealer.code), Conflict) from exc
    audit.record("chapter_opened", actor=actor, ip=ip, chapter_id=chapter.id,
                 target_type="chapter", target_id=chapter.id,
                 details={"dealer": dealer.code, "founded_on": founded_on.isoformat()})
    return chapter


def rename_chapter(chapter: Chapter, name: str, *, actor=None, ip: str | None = None) -> Chapter:
    if not (name or "").strip():
        raise field_error("name", _l("Enter the chapter's name."))
    chapter.name = name.strip()
    db.session.flush()
    audit.record("chapter_updated", actor=actor, ip=ip, chapter_id=chapter.id,
                 target_type="chapter", target_id=chapter.id, details={"name": chapter.name})
    return chapter


def close_chapter(chapter: Chapter, closed_on: date, *, actor=None, ip: str | None = None) -> Chapter:
    """Close a chapter from a date on; its history stays, it stops counting from then."""
    if chapter.closed_on is not None:
        raise field_error("closed_on", _l("The chapter is already closed."), Conflict)
    if closed_on is None:
        raise field_error("closed_on", _l("Enter the closing date."))
    if closed_on < chapter.founded_on:
        raise field_error("closed_on", _l("The closing date is before the founding date."))
    chapter.closed_on = closed_on
    db.session.flush()
    audit.record("chapter_closed", actor=actor, ip=ip, chapter_id=chapter.id,
                 target_type="chapter", target_id=chapter.id,
                 details={"closed_on": closed_on.isoformat()})
    return chapter
