"""Owners, vehicles and service visits of a chapter: the rules, in one place.

Every function runs inside the chapter's tenant scope (opened by the request or the
job), so queries see only that chapter's rows. Validation collects every field error
at once; nothing is written when anything is wrong. Unique keys (mobile, ID number,
VIN, work-order number) are checked before writing and again by the database: a
duplicate written meanwhile by another request is the same field error (409).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from chapter.owners.models import OWNER_KINDS, VISIT_TYPES, Owner, ServiceVisit, Vehicle
from chapter.points import service as points
from clubplatform import crypto, dates
from clubplatform.audit import service as audit
from clubplatform.auth.models import CHAPTER_MANAGER, CHAPTER_ROLES, HQ_ADMIN, User
from clubplatform.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from clubplatform.extensions import db
from clubplatform.money import parse_yuan
from clubplatform.validators import (
    GENDERS,
    InvalidValue,
    id_number_birthday,
    id_number_gender,
    mask_id_number,
    normalize_mobile,
    validate_id_number,
    validate_mobile,
    validate_vin,
)

POSTAL_CODE = re.compile(r"^\d{6}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: roles that may see an unmasked ID number (each reveal is audited)
REVEAL_ROLES = (CHAPTER_MANAGER, HQ_ADMIN)

OWNER_FIELDS = ("kind", "name", "gender", "mobile", "id_number", "birthday", "occupation",
                "address", "postal_code", "work_address", "email", "hobbies", "advisor_id",
                "is_vip")
VEHICLE_FIELDS = ("vin", "plate", "model", "colour", "purchase_date", "delivery_date",
                  "insurance_expiry", "next_inspection_on", "mileage_km", "selling_dealer_id")
VISIT_FIELDS = ("order_no", "visit_date", "visit_type", "amount", "amount_fen", "mileage_km")

#: labels of the owner kinds
OWNER_KIND_LABELS = {"individual": _l("Individual"), "company": _l("Company")}
#: labels of the genders
GENDER_LABELS = {"male": _l("Male"), "female": _l("Female")}
#: labels of the service visit types (zh: 首保, 保养, 索赔, 小修, 大修, 保险维修, 钣喷, 装饰,
#: 续保, 代办年检)
VISIT_TYPE_LABELS = {
    "first_service": _l("First service"),
    "maintenance": _l("Maintenance"),
    "warranty": _l("Warranty claim"),
    "minor_repair": _l("Minor repair"),
    "major_repair": _l("Major repair"),
    "insurance_repair": _l("Insurance repair"),
    "body_paint": _l("Body and paint"),
    "accessories": _l("Accessories"),
    "insurance_renewal": _l("Insurance renewal"),
    "inspection": _l("Annual inspection service"),
}

_DUPLICATE_MOBILE = _l("Another owner of this chapter has this mobile number.")
_DUPLICATE_ID = _l("Another owner of this chapter has this ID number.")
_DUPLICATE_VIN = _l("A vehicle with this VIN is already registered.")
_CHOOSE_ADVISOR = _l("Choose an advisor of this chapter.")

#: unique keys the database enforces: (constraint name on PostgreSQL, column on SQLite),
#: the field it concerns and the message
_UNIQUE_KEYS = (
    (("uq_owners_chapter_id_mobile", "owners.mobile"), "mobile", _DUPLICATE_MOBILE),
    (("uq_owners_chapter_id_id_digest", "owners.id_number_digest"), "id_number", _DUPLICATE_ID),
    (("uq_vehicles_chapter_id_vin", "vehicles.vin"), "vin", _DUPLICATE_VIN),
    (("uq_service_visits_chapter_id_order_no", "service_visits.order_no"), "order_no",
     _l("This work order is already recorded.")),
)


class _Errors:
    """Collects field errors; raises them together."""

    def __init__(self) -> None:
        self.fields: dict[str, list] = {}
        self.conflicts: set[str] = set()

    def add(self, field: str, message, conflict: bool = False) -> None:
        self.fields.setdefault(field, []).append(message)
        if conflict:
            self.conflicts.add(field)

    def raise_if_any(self) -> None:
        """Raise :class:`Conflict` when only duplicates are wrong, else :class:`ValidationFailed`."""
        if self.fields:
            first = next(iter(self.fields.values()))[0]
            cls = Conflict if set(self.fields) == self.conflicts else ValidationFailed
            raise cls(first, self.fields)


@contextlib.contextmanager
def _unique_keys_guarded() -> Iterator[None]:
    """Write inside a savepoint; a unique key taken meanwhile becomes a field conflict."""
    try:
        with db.session.begin_nested():
            yield
    except sa.exc.IntegrityError as exc:
        text = str(exc.orig)
        for markers, field, message in _UNIQUE_KEYS:
            if any(m in text for m in markers):
                raise Conflict(message, {field: [message]}) from None
        raise


def _text(value, limit: int) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text[:limit] or None


def _date(value, field: str, errors: _Errors) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip().replace("/", "-").replace(".", "-")
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    errors.add(field, _l("Not a date (use YYYY-MM-DD)."))
    return None


def _int(value, field: str, errors: _Errors, minimum: int = 0) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(str(value).strip().replace(",", ""))
    except ValueError:
        errors.add(field, _l("Enter a whole number."))
        return None
    if number < minimum:
        errors.add(field, _l("Enter a number of at least %(n)s.", n=minimum))
        return None
    return number


def _id(value) -> int | None:
    """A row id from a form or JSON value; ``None`` for empty, ``-1`` for junk."""
    if value in (None, "", 0, "0"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def hobbies_list(value) -> list[str]:
    """Hobbies from a list or a text separated by commas, 、 or ；."""
    if not value:
        return []
    if isinstance(value, list | tuple):
        items = value
    else:
        items = re.split(r"[,，、;；/]+", str(value))
    return [str(h).strip()[:32] for h in items if h and str(h).strip()][:20]


def normalize_plate(value) -> str | None:
    """A licence plate as stored: upper case, without spaces, dots or dashes (京A12345)."""
    text = _text(value, 32)
    if not text:
        return None
    return re.sub(r"[\s·•.\-]", "", text).upper()[:16] or None


# --- owners ------------------------------------------------------------------------

def clean_owner(data: dict, *, chapter_id: int, owner: Owner | None = None,
                partial: bool = False) -> dict:
    """Validate owner fields; return the values to store (ID number sealed).

    ``partial`` checks only the fields present (an update); a birthday or gender given
    alone is still checked against the ID number already on record. Raises
    :class:`ValidationFailed` (or :class:`Conflict` when only a duplicate mobile/ID in
    the chapter is wrong) naming every bad field.
    """
    errors = _Errors()
    out: dict = {}

    def given(name: str) -> bool:
        return not partial or name in data

    if given("kind"):
        kind = data.get("kind") or "individual"
        if kind not in OWNER_KINDS:
            errors.add("kind", _l("Choose individual or company."))
        out["kind"] = kind
    if given("name"):
        name = _text(data.get("name"), 128)
        if not name:
            errors.add("name", _l("Enter the owner's name."))
        out["name"] = name
    if given("mobile"):
        out["mobile"] = None
        if data.get("mobile"):
            try:
                out["mobile"] = validate_mobile(data["mobile"])
            except InvalidValue as exc:
                errors.add("mobile", exc.message)
    id_number = None      # the ID number given now, validated
    on_record = None      # the ID number already stored, when this update leaves it
    if given("id_number"):
        out.update(id_number_enc=None, id_number_digest=None, id_number_masked=None)
        if data.get("id_number"):
            try:
                id_number = validate_id_number(data["id_number"])
            except InvalidValue as exc:
                errors.add("id_number", exc.message)
            else:
                out.update(id_number_enc=crypto.encrypt(id_number),
                           id_number_digest=crypto.blind_index(id_number),
                           id_number_masked=mask_id_number(id_number))
    elif owner is not None and owner.id_number_enc and ("birthday" in data or "gender" in data):
        on_record = crypto.decrypt(owner.id_number_enc)
    if given("birthday"):
        out["birthday"] = _date(data.get("birthday"), "birthday", errors)
        if out["birthday"] and out["birthday"] > dates.today():
            errors.add("birthday", _l("The birthday is in the future."))
    if given("gender"):
        gender = data.get("gender") or None
        if gender is not None and gender not in GENDERS:
            errors.add("gender", _l("Choose male or female."))
        out["gender"] = gender
    reference = id_number or on_record
    if reference and (id_number or "birthday" in out):
        from_id = _safe(id_number_birthday, reference)
        if from_id:
            if out.get("birthday") and out["birthday"] != from_id:
                errors.add("birthday", _l("The birthday does not match the ID number (%(d)s).",
                                          d=from_id.isoformat()))
            out["birthday"] = from_id
    if reference and (id_number or "gender" in out):
        from_id = _safe(id_number_gender, reference)
        if from_id:
            if out.get("gender") and out["gender"] != from_id:
                errors.add("gender", _l("The gender does not match the ID number."))
            out["gender"] = from_id
    for field, limit in (("occupation", 64), ("address", 255), ("work_address", 255)):
        if given(field):
            out[field] = _text(data.get(field), limit)
    if given("postal_code"):
        code = _text(data.get("postal_code"), 16)
        if code and not POSTAL_CODE.match(code):
            errors.add("postal_code", _l("Enter a 6-digit postal code."))
        out["postal_code"] = code
    if given("email"):
        email = _text(data.get("email"), 254)
        if email and not EMAIL.match(email):
            errors.add("email", _l("Enter a valid e-mail address."))
        out["email"] = email
    if given("hobbies"):
        out["hobbies"] = hobbies_list(data.get("hobbies"))
    if given("advisor_id"):
        advisor_id = _id(data.get("advisor_id"))
        unchanged = owner is not None and advisor_id == owner.advisor_id
        if advisor_id is not None and not unchanged and not _is_chapter_staff(
                chapter_id, advisor_id, active=True):
            errors.add("advisor_id", _CHOOSE_ADVISOR)
        out["advisor_id"] = advisor_id
    if given("is_vip"):
        out["is_vip"] = bool(data.get("is_vip"))
    _check_duplicates(out, owner, errors)
    errors.raise_if_any()
    return out


def _safe(fn, value):
    # a number stored before validation was tightened must not break an update
    try:
        return fn(value)
    except InvalidValue:
        return None


def _is_chapter_staff(chapter_id: int, user_id: int, *, active: bool = False) -> bool:
    stmt = sa.select(sa.func.count()).select_from(User).where(
        User.id == user_id, User.chapter_id == chapter_id, User.role.in_(CHAPTER_ROLES))
    if active:
        stmt = stmt.where(User.is_active_user.is_(True))
    return db.session.execute(stmt).scalar_one() > 0


def _check_duplicates(out: dict, owner: Owner | None, errors: _Errors) -> None:
    checks = (("mobile", Owner.mobile, out.get("mobile"), _DUPLICATE_MOBILE),
              ("id_number", Owner.id_number_digest, out.get("id_number_digest"), _DUPLICATE_ID))
    for field, column, value, message in checks:
        if not value:
            continue
        stmt = sa.select(Owner.id).where(column == value)
        if owner is not None and owner.id is not None:
            stmt = stmt.where(Owner.id != owner.id)
        if db.session.execute(stmt.limit(1)).first():
            errors.add(field, message, conflict=True)


def create_owner(chapter_id: int, data: dict, *, actor=None) -> Owner:
    """Add an owner to the chapter's base customers."""
    values = clean_owner(data, chapter_id=chapter_id)
    owner = Owner(chapter_id=chapter_id, **values)
    with _unique_keys_guarded():
        db.session.add(owner)
    return owner


def update_owner(owner: Owner, data: dict, *, actor=None) -> Owner:
    """Change an owner's fields (only those given)."""
    if owner.anonymised_at is not None:
        raise ValidationFailed(_l("This owner's personal data was removed on request."))
    values = clean_owner(data, chapter_id=owner.chapter_id, owner=owner, partial=True)
    with _unique_keys_guarded():
        for key, value in values.items():
            setattr(owner, key, value)
    return owner


def get_owner(owner_id: int) -> Owner:
    """An owner of the scope's chapter; another chapter's owner is not found."""
    owner = db.session.execute(sa.select(Owner).where(Owner.id == owner_id)).scalar_one_or_none()
    if owner is None:
        raise NotFound(_l("No such owner."))
    return owner


def can_reveal(user) -> bool:
    """Whether ``user``'s role may see full ID numbers."""
    return getattr(user, "role", None) in REVEAL_ROLES


def reveal_id_number(owner: Owner, *, actor, ip: str | None = None) -> str:
    """The unmasked ID number, for roles that need it; every reveal is audited."""
    if not can_reveal(actor):
        raise PermissionDenied(_l("Your role may not see full ID numbers."))
    if not owner.id_number_enc:
        message = _l("No ID number is recorded for this owner.")
        raise ValidationFailed(message, {"id_number": [message]})
    audit.record("reveal", actor=actor, ip=ip, chapter_id=owner.chapter_id,
                 target_type="owner", target_id=owner.id, details={"field": "id_number"})
    return crypto.decrypt(owner.id_number_enc)


def owner_query(*, q: str | None = None, advisor_id: int | None = None,
                kind: str | None = None, vip: bool | None = None) -> sa.Select:
    """Search owners by name, mobile, plate, VIN or member number (scope's chapter).

    ``advisor_id`` ``0`` (or ``-1``) finds owners without an advisor.
    """
    stmt = sa.select(Owner).order_by(Owner.name, Owner.id)
    if q and q.strip():
        stmt = stmt.where(search_predicate(q))
    if advisor_id is not None:
        stmt = stmt.where(Owner.advisor_id.is_(None) if advisor_id <= 0
                          else Owner.advisor_id == advisor_id)
    if kind in OWNER_KINDS:
        stmt = stmt.where(Owner.kind == kind)
    if vip is not None:
        stmt = stmt.where(Owner.is_vip.is_(vip))
    return stmt


def search_predicate(q: str):
    """What a search box matches: an exact mobile, VIN, plate or member number, else a name.

    Mobiles may be typed with ``+86``, spaces or dashes; VINs, plates and member numbers
    in any case and with spaces; a name matches by its beginning.
    """
    from hq.members.models import Member

    text = q.strip()
    compact = re.sub(r"[\s·•\-]", "", text).upper()
    mobile = normalize_mobile(text)
    if re.fullmatch(r"1\d{10}", mobile):
        return Owner.mobile == mobile
    if re.fullmatch(r"[A-HJ-NPR-Z0-9]{17}", compact):
        return Owner.id.in_(sa.select(Vehicle.owner_id).where(Vehicle.vin == compact))
    if re.fullmatch(r"M\d{6,12}", compact):
        return Owner.id.in_(sa.select(Member.owner_id).where(Member.member_number == compact))
    if re.fullmatch(r"[\u4e00-\u9fff][A-Z][A-Z0-9]{5,6}", compact):
        return Owner.id.in_(sa.select(Vehicle.owner_id).where(Vehicle.plate == compact))
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return Owner.name.like(escaped + "%", escape="\\")


def reassign_advisor(chapter_id: int, *, from_user_id: int, to_user_id: int | None,
                     owner_ids: list[int] | None = None, actor=None,
                     ip: str | None = None) -> int:
    """Move an advisor's owners to another advisor in one UPDATE; return how many moved.

    ``owner_ids`` ``None`` moves all of them; a list moves only those (of that advisor).
    ``to_user_id`` ``None`` leaves them without an advisor. The move is audited.
    """
    errors = _Errors()
    from_id, to_id = _id(from_user_id), _id(to_user_id)
    if from_id is None or not _is_chapter_staff(chapter_id, from_id):
        errors.add("from_user_id", _l("Choose the advisor whose owners move."))
    if to_id is not None:
        if to_id == from_id:
            errors.add("to_user_id", _l("Choose a different advisor."))
        elif not _is_chapter_staff(chapter_id, to_id, active=True):
            errors.add("to_user_id", _l("Choose an active advisor of this chapter."))
    if owner_ids is not None and not owner_ids:
        errors.add("owner_ids", _l("Tick at least one owner, or move all of them."))
    errors.raise_if_any()
    stmt = sa.update(Owner).where(Owner.advisor_id == from_id).values(advisor_id=to_id)
    if owner_ids is not None:
        stmt = stmt.where(Owner.id.in_([int(i) for i in owner_ids]))
    moved = db.session.execute(stmt.execution_options(synchronize_session=False)).rowcount
    audit.record("owners_reassigned", actor=actor, ip=ip, chapter_id=chapter_id,
                 target_type="user", target_id=from_id,
                 details={"to": to_id, "count": moved,
                          "selected": None if owner_ids is None else len(owner_ids)})
    return moved


@dataclass(frozen=True)
class Advisor:
    """A chapter account that can care for owners."""

    id: int
    name: str
    active: bool
    owners: int = 0


def advisors(chapter_id: int, *, with_counts: bool = False) -> list[Advisor]:
    """The chapter's manager and staff (and how many owners each cares for, if asked)."""
    from clubplatform.auth.service import chapter_staff_query

    counts = dict(db.session.execute(
        sa.select(Owner.advisor_id, sa.func.count()).where(Owner.advisor_id.is_not(None))
        .group_by(Owner.advisor_id)).all()) if with_counts else {}
    users = db.session.execute(chapter_staff_query(chapter_id)).scalars()
    return [Advisor(u.id, u.display_name, bool(u.is_active_user), counts.get(u.id, 0))
            for u in users]


def advisor_owners(advisor_id: int, limit: int = 500) -> list[Owner]:
    """The owners an advisor cares for (for picking some of them to move)."""
    return list(db.session.execute(
        sa.select(Owner).where(Owner.advisor_id == advisor_id)
        .order_by(Owner.name, Owner.id).limit(limit)).scalars())


@dataclass(frozen=True)
class Membership:
    """An owner's club status: the member row and the latest application, if any."""

    member_id: int | None = None
    member_number: str | None = None
    member_status: str | None = None
    application_id: int | None = None
    application_status: str | None = None


def memberships(owner_ids: Iterable[int]) -> dict[int, Membership]:
    """Club status of the given owners, in two queries (a page of a list at a time)."""
    from chapter.recruitment.models import Application
    from hq.members.models import Member

    ids = list(owner_ids)
    if not ids:
        return {}
    members = {m.owner_id: m for m in db.session.execute(
        sa.select(Member).where(Member.owner_id.in_(ids))).scalars()}
    latest: dict[int, Application] = {}
    for app in db.session.execute(sa.select(Application).where(Application.owner_id.in_(ids))
                                  .order_by(Application.id)).scalars():
        latest[app.owner_id] = app
    out = {}
    for owner_id in ids:
        m, a = members.get(owner_id), latest.get(owner_id)
        if m or a:
            out[owner_id] = Membership(
                member_id=m.id if m else None, member_number=m.member_number if m else None,
                member_status=m.status if m else None, application_id=a.id if a else None,
                application_status=a.status if a else None)
    return out


# --- vehicles ----------------------------------------------------------------------

def clean_vehicle(data: dict, *, vehicle: Vehicle | None = None, partial: bool = False) -> dict:
    """Validate vehicle fields; return the values to store.

    Raises :class:`ValidationFailed` naming each bad field (a wrong VIN check digit,
    a future purchase or delivery date, a delivery before the purchase or after a
    recorded visit), or :class:`Conflict` for a VIN already registered in the chapter.
    """
    from clubplatform.org.models import Dealer

    errors = _Errors()
    out: dict = {}

    def given(name: str) -> bool:
        return not partial or name in data

    if given("vin"):
        try:
            out["vin"] = validate_vin(data.get("vin"))
        except InvalidValue as exc:
            errors.add("vin", exc.message)
        else:
            stmt = sa.select(Vehicle.id).where(Vehicle.vin == out["vin"])
            if vehicle is not None and vehicle.id is not None:
                stmt = stmt.where(Vehicle.id != vehicle.id)
            if db.session.execute(stmt.limit(1)).first():
                errors.add("vin", _DUPLICATE_VIN, conflict=True)
    if given("plate"):
        out["plate"] = normalize_plate(data.get("plate"))
    for field, limit in (("model", 64), ("colour", 32)):
        if given(field):
            out[field] = _text(data.get(field), limit)
    today = dates.today()
    for field in ("purchase_date", "delivery_date", "insurance_expiry", "next_inspection_on"):
        if given(field):
            out[field] = _date(data.get(field), field, errors)
    for field in ("purchase_date", "delivery_date"):
        if out.get(field) and out[field] > today:
            errors.add(field, _l("The date is in the future."))
    purchase = out.get("purchase_date", vehicle.purchase_date if vehicle else None)
    delivery = out.get("delivery_date", vehicle.delivery_date if vehicle else None)
    if purchase and delivery and delivery < purchase:
        errors.add("delivery_date", _l("The delivery is before the purchase."))
    if vehicle is not None and vehicle.id is not None and out.get("delivery_date"):
        first = db.session.execute(sa.select(sa.func.min(ServiceVisit.visit_date))
                                   .where(ServiceVisit.vehicle_id == vehicle.id)).scalar()
        if first and first < out["delivery_date"]:
            errors.add("delivery_date", _l("A service visit on %(d)s is before this delivery "
                                           "date.", d=first.isoformat()))
    if given("mileage_km"):
        out["mileage_km"] = _int(data.get("mileage_km"), "mileage_km", errors)
    if given("selling_dealer_id"):
        dealer_id = _id(data.get("selling_dealer_id"))
        if dealer_id is not None and db.session.get(Dealer, dealer_id) is None:
            errors.add("selling_dealer_id", _l("No such dealer."))
        out["selling_dealer_id"] = dealer_id
    errors.raise_if_any()
    return out


def add_vehicle(owner: Owner, data: dict) -> Vehicle:
    """Register a vehicle of an owner."""
    values = clean_vehicle(data)
    vehicle = Vehicle(chapter_id=owner.chapter_id, owner_id=owner.id, **values)
    with _unique_keys_guarded():
        db.session.add(vehicle)
    _note_customer_since(owner, values.get("delivery_date"))
    db.session.flush()
    return vehicle


def update_vehicle(vehicle: Vehicle, data: dict) -> Vehicle:
    """Change a vehicle's fields (only those given)."""
    values = clean_vehicle(data, vehicle=vehicle, partial=True)
    with _unique_keys_guarded():
        for key, value in values.items():
            setattr(vehicle, key, value)
    _note_customer_since(vehicle.owner, values.get("delivery_date"))
    db.session.flush()
    return vehicle


def get_vehicle(vehicle_id: int) -> Vehicle:
    """A vehicle of the scope's chapter; another chapter's vehicle is not found."""
    vehicle = db.session.execute(
        sa.select(Vehicle).where(Vehicle.id == vehicle_id)).scalar_one_or_none()
    if vehicle is None:
        raise NotFound(_l("No such vehicle."))
    return vehicle


def vehicle_query(owner: Owner) -> sa.Select:
    """An owner's vehicles, oldest first."""
    return sa.select(Vehicle).where(Vehicle.owner_id == owner.id).order_by(Vehicle.id)


def _note_customer_since(owner: Owner, day: date | None) -> None:
    # an owner is the dealer's customer from the first delivery or service there
    if day and (owner.customer_since is None or day < owner.customer_since):
        owner.customer_since = day


# --- service visits ----------------------------------------------------------------

def clean_visit(data: dict, *, vehicle: Vehicle, visit: ServiceVisit | None = None) -> dict:
    """Validate a work order; return the values to store.

    The amount is given in yuan (``amount``, e.g. ``"680.00"``) or in fen
    (``amount_fen``). Raises :class:`ValidationFailed` naming each bad field (a future
    date, a visit before the car's delivery …) or :class:`Conflict` for a work-order
    number already recorded in the chapter.
    """
    errors = _Errors()
    out: dict = {}
    order_no = _text(data.get("order_no"), 32)
    if not order_no:
        errors.add("order_no", _l("Enter the work-order number."))
    else:
        stmt = sa.select(ServiceVisit.id).where(ServiceVisit.order_no == order_no)
        if visit is not None and visit.id is not None:
            stmt = stmt.where(ServiceVisit.id != visit.id)
        if db.session.execute(stmt.limit(1)).first():
            errors.add("order_no", _l("Work order %(no)s is already recorded.", no=order_no),
                       conflict=True)
    out["order_no"] = order_no
    out["visit_date"] = _date(data.get("visit_date"), "visit_date", errors)
    if "visit_date" not in errors.fields:
        if out["visit_date"] is None:
            errors.add("visit_date", _l("Enter the visit date."))
        elif out["visit_date"] > dates.today():
            errors.add("visit_date", _l("The date is in the future."))
        elif vehicle.delivery_date and out["visit_date"] < vehicle.delivery_date:
            errors.add("visit_date", _l("The visit is before the car's delivery (%(d)s).",
                                        d=vehicle.delivery_date.isoformat()))
    visit_type = data.get("visit_type")
    if visit_type not in VISIT_TYPES:
        errors.add("visit_type", _l("Choose the type of visit."))
    out["visit_type"] = visit_type
    if data.get("amount_fen") is not None:
        out["amount_fen"] = _int(data.get("amount_fen"), "amount", errors)
    else:
        amount = data.get("amount")
        try:
            out["amount_fen"] = parse_yuan(amount if amount not in (None, "") else 0)
        except ValueError:
            errors.add("amount", _l("Enter an amount in yuan, e.g. 680.00."))
        else:
            if out["amount_fen"] < 0:
                errors.add("amount", _l("The amount cannot be negative."))
    out["mileage_km"] = _int(data.get("mileage_km"), "mileage_km", errors)
    errors.raise_if_any()
    return out


def add_visit(vehicle: Vehicle, data: dict) -> ServiceVisit:
    """Record a service visit of a vehicle (and its mileage)."""
    values = clean_visit(data, vehicle=vehicle)
    visit = ServiceVisit(chapter_id=vehicle.chapter_id, vehicle_id=vehicle.id,
                         owner_id=vehicle.owner_id, **values)
    with _unique_keys_guarded():
        db.session.add(visit)
    if values.get("mileage_km") and (vehicle.mileage_km or 0) < values["mileage_km"]:
        vehicle.mileage_km = values["mileage_km"]
    _note_customer_since(vehicle.owner, values["visit_date"])
    db.session.flush()
    points.award_visits(visit.chapter_id, [visit.id])  # a member's visit earns points
    return visit


def owner_visits(owner: Owner, limit: int = 50) -> list[ServiceVisit]:
    """An owner's latest visits, newest first."""
    return list(db.session.execute(
        sa.select(ServiceVisit).where(ServiceVisit.owner_id == owner.id)
        .order_by(ServiceVisit.visit_date.desc(), ServiceVisit.id.desc()).limit(limit)
    ).scalars())


def visit_query(vehicle: Vehicle) -> sa.Select:
    """A vehicle's visits, newest first."""
    return (sa.select(ServiceVisit).where(ServiceVisit.vehicle_id == vehicle.id)
            .order_by(ServiceVisit.visit_date.desc(), ServiceVisit.id.desc()))
