"""Demo data of the chapters: owners, cars, three years of visits, members, leads, transfers.

Runs after the organisation's demo (:mod:`clubplatform.demo`), for each of its chapters,
inside that chapter's scope with a fresh session, through the services the pages use:
owners, vehicles and visits (``chapter.owners.service``), applications submitted,
approved and rejected (``chapter.recruitment.service``), suspensions and departures
(``hq.members.service.change_status``), leads (``chapter.referrals.service``), then
a few transfers between chapters (``hq.members.service``) and one member with a portal
account (``chapter.portal.service.sign_up``).

A decision is always dated today by the services; the demo tells a three-year story,
so after an approval or a rejection it moves that decision's business dates back to the
story's day (:func:`_backdate`). Everything else takes its date as an argument.

Idempotent: owners are keyed by deterministic mobiles (``138`` + seed block + chapter
number + owner number); an owner that exists is skipped with everything made with it,
and each chapter is committed in one piece.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import sqlalchemy as sa

#: owners per demo chapter (a multiple of 20: each block of 20 tells the whole story);
#: the load costs about 0.3 s per chapter and 20 owners on SQLite, through the services
OWNERS_PER_CHAPTER = 20
#: what becomes of the owner at each position of a block of 20: 12 members (60%) in
#: several statuses, 2 applications waiting, 1 rejected, 4 customers only, 1 company
STORY = ("active", "active", "active", "suspended", "active", "left", "active", "reactivated",
         "active", "active", "left", "suspended",
         "applying", "applying", "rejected", "customer", "customer", "customer", "customer",
         "company")
#: the member-portal demo account (a member of the first demo chapter)
PORTAL_MOBILE = "13800138000"
PASSWORD = "Demo-2026-club"

MODELS = ("星辰 S5", "星辰 S7", "远航 L6", "远航 L8", "锐行 X3", "致远 E7 纯电")
COLOURS = ("珍珠白", "曜石黑", "星空灰", "冰川银", "宝石蓝")
HOBBIES = ("自驾游", "摄影", "钓鱼", "户外露营", "骑行", "美食", "亲子活动", "登山")
PLATE_LETTERS = "ABCDEFGHJKLMNP"
PROVINCE_OF_REGION = {"BJ": ("京", "11"), "SH": ("沪", "31"), "CD": ("川", "51"),
                      "JN": ("鲁", "37"), "GZ": ("粤", "44"), "HZ": ("浙", "33")}
SOURCES = ("showroom", "service_visit", "event", "referral", "online")


def load(seed: int = 20261124, *, chapters: int | None = None) -> list[tuple[str, str, str]]:
    """Load the chapters' demo data (idempotent); return the extra demo logins.

    ``chapters`` limits the load to the first demo chapters (tests); default all.
    """
    from faker import Faker

    from clubplatform.extensions import db

    chapters = _demo_chapters()[:chapters]
    db.session.remove()
    fake = Faker("zh_CN")
    for chapter in chapters:
        _load_chapter(chapter, seed, fake)
        db.session.remove()
    _load_transfers(chapters, seed)
    db.session.remove()
    logins = _load_portal_member(chapters[0], seed) if chapters else []
    db.session.remove()
    return logins


def _demo_chapters() -> list[dict]:
    """The demo organisation's chapters, by dealer code, with their staff."""
    from clubplatform.auth.models import CHAPTER_MANAGER, CHAPTER_STAFF, User
    from clubplatform.demo import DEALERS_PER_REGION, REGIONS
    from clubplatform.extensions import db
    from clubplatform.org.models import Chapter, Dealer, Region

    codes = [f"{code}-{i + 1:03d}" for code, *_ in REGIONS for i in range(DEALERS_PER_REGION)]
    rows = db.session.execute(
        sa.select(Chapter.id, Dealer.id, Dealer.code, Region.code, Dealer.city, Chapter.founded_on)
        .join(Dealer, Dealer.id == Chapter.dealer_id).join(Region, Region.id == Dealer.region_id)
        .where(Dealer.code.in_(codes)).order_by(Dealer.code)).all()
    chapters = []
    for number, (chapter_id, dealer_id, dealer_code, region_code, city, founded_on) in enumerate(
            rows):
        users = db.session.execute(
            sa.select(User.id, User.role).where(User.chapter_id == chapter_id,
                                                User.role.in_((CHAPTER_MANAGER, CHAPTER_STAFF)))
            .order_by(User.id)).all()
        chapters.append({
            "id": chapter_id, "number": number, "dealer_id": dealer_id, "code": dealer_code,
            "region": region_code, "city": city, "founded_on": founded_on,
            "manager_id": next((u for u, r in users if r == CHAPTER_MANAGER), None),
            "staff_ids": [u for u, r in users if r == CHAPTER_STAFF],
        })
    return [c for c in chapters if c["manager_id"]]


def demo_mobile(seed: int, chapter_number: int, owner_number: int) -> str:
    """The mobile of a demo owner: ``138`` + seed block + chapter + owner (never 13800138000)."""
    return f"138{seed % 97:02d}{chapter_number:02d}{owner_number:04d}"


def _load_chapter(chapter: dict, seed: int, fake) -> None:
    from chapter.owners import service as owners
    from chapter.owners.models import Owner
    from clubplatform import dates
    from clubplatform.auth.models import User
    from clubplatform.extensions import db
    from clubplatform.tenancy import chapter_scope
    from clubplatform.validators import make_id_number, make_vin

    today = dates.today()
    province, id_province = PROVINCE_OF_REGION.get(chapter["region"], ("京", "11"))
    plate_prefix = province + PLATE_LETTERS[chapter["number"] % len(PLATE_LETTERS)]
    with chapter_scope(chapter["id"]):
        manager = db.session.get(User, chapter["manager_id"])
        staff = [db.session.get(User, u) for u in chapter["staff_ids"]] or [manager]
        mobiles = {demo_mobile(seed, chapter["number"], k): k for k in range(OWNERS_PER_CHAPTER)}
        existing = set(db.session.execute(
            sa.select(Owner.mobile).where(Owner.mobile.in_(list(mobiles)))).scalars())
        leads_wanted = not existing
        members = []
        for mobile, k in mobiles.items():
            if mobile in existing:
                continue
            # each owner's own random stream: the same story whatever exists already
            story = random.Random(f"{seed}/{chapter['code']}/{k}")
            fake.seed_instance(story.randrange(2**32))
            male = story.random() < 0.62
            birthday = today - timedelta(days=story.randint(23 * 365, 65 * 365))
            role = STORY[k % len(STORY)]
            company = role == "company"
            data = {
                "kind": "company" if company else "individual",
                "name": (f"{chapter['city'].rstrip('市')}{fake.company_prefix()}科技有限公司"
                         if company else fake.name_male() if male else fake.name_female()),
                "mobile": mobile,
                "advisor_id": story.choice(staff).id,
                "occupation": None if company else fake.job()[:64],
                "address": f"{chapter['city']}{fake.street_address()}",
                "postal_code": fake.postcode(),
                "email": fake.email(safe=True) if story.random() < 0.3 else None,
                "hobbies": story.sample(HOBBIES, story.randint(0, 3)),
                "is_vip": k % 17 == 1,
            }
            if not company:
                data["gender"] = "male" if male else "female"
                if story.random() < 0.5:
                    data["id_number"] = make_id_number(story, birthday, data["gender"],
                                                       area=f"{id_province}0105")
                else:
                    data["birthday"] = birthday
            owner = owners.create_owner(chapter["id"], data, actor=manager)
            for car in range(1 + (story.random() < 0.15)):
                _add_car(owners, owner, story, today, plate_prefix, chapter, k, car,
                         vin=make_vin(story, "LDM"))
            if role not in ("customer", "company"):
                members.append(_recruit(owner, k, role, story, today, chapter, manager, staff))
        if leads_wanted:
            rng = random.Random(f"{seed}/{chapter['code']}/leads")
            fake.seed_instance(rng.randrange(2**32))
            _load_leads(chapter, [m for m in members if m is not None], rng, fake, today,
                        staff)
        db.session.commit()


def _add_car(owners, owner, story: random.Random, today: date, plate_prefix: str,
             chapter: dict, k: int, car: int, *, vin: str) -> None:
    """A car delivered one to six years ago, serviced once or twice in the last three years."""
    delivered = today - timedelta(days=story.randint(200, 6 * 365))
    model = story.choice(MODELS)
    plate = plate_prefix + (f"D{story.randint(0, 99999):05d}" if "纯电" in model
                            else f"{story.randint(10000, 99999)}")
    vehicle = owners.add_vehicle(owner, {
        "vin": vin, "plate": plate, "model": model, "colour": story.choice(COLOURS),
        "purchase_date": delivered - timedelta(days=story.randint(0, 10)),
        "delivery_date": delivered,
        "selling_dealer_id": chapter["dealer_id"],
        "insurance_expiry": delivered + timedelta(days=365 * ((today - delivered).days // 365 + 1)),
        "mileage_km": 0,
    })
    start = max(delivered + timedelta(days=40),
                today - timedelta(days=story.randint(30, 3 * 365 - 30)))
    day, n, km_per_day = start, 0, story.randint(25, 60)
    while day <= today and n < 2:
        visit_type = "first_service" if n == 0 and day - delivered < timedelta(days=200) else \
            story.choice(("maintenance", "maintenance", "maintenance", "minor_repair",
                          "insurance_renewal", "body_paint", "accessories"))
        amount = {"first_service": 0, "maintenance": story.randint(400, 1500),
                  "minor_repair": story.randint(200, 2500),
                  "insurance_renewal": story.randint(3000, 8000),
                  "body_paint": story.randint(800, 5000),
                  "accessories": story.randint(300, 3000)}[visit_type]
        owners.add_visit(vehicle, {
            "order_no": f"DEMO-{chapter['number']:02d}{k:02d}{car}{n}",
            "visit_date": day, "visit_type": visit_type, "amount_fen": amount * 100,
            "mileage_km": (day - delivered).days * km_per_day,
        })
        n += 1
        day += timedelta(days=story.randint(300, 700))


def _recruit(owner, k: int, role: str, story: random.Random, today: date, chapter: dict,
             manager, staff):
    """The owner's application and what became of it; returns the member (or None)."""
    from chapter.recruitment import service as recruitment
    from hq.members import service as members

    source = SOURCES[k % len(SOURCES)]
    if role == "applying":
        recruitment.submit_application(owner, source=source, actor=story.choice(staff),
                                       applied_on=today - timedelta(days=story.randint(0, 20)))
        return None
    # applied after the chapter was founded and the owner became a customer, 2+ months ago
    lower = max(chapter["founded_on"], owner.customer_since or chapter["founded_on"])
    applied = lower + timedelta(days=story.randint(10, 400))
    applied = max(chapter["founded_on"], min(applied, today - timedelta(days=60)))
    application = recruitment.submit_application(owner, source=source,
                                                 actor=story.choice(staff), applied_on=applied)
    decided = min(today, applied + timedelta(days=story.randint(1, 7)))
    if role == "rejected":
        recruitment.reject_application(application, "资料不全，请补充身份证信息后重新申请",
                                       actor=manager)
        _backdate(application, None, decided)
        return None
    consents = {"sms": True, "email": bool(owner.email), "phone": k % 2 == 0,
                "portal": k % 3 == 0}
    member = recruitment.approve_application(
        application, actor=manager, consents={c: True for c, given in consents.items() if given})
    _backdate(application, member, decided)
    room = (today - decided).days
    if role != "active":
        first = decided + timedelta(days=story.randint(20, max(21, room // 2)))
        if role == "left":
            members.change_status(member, "left", on=first, reason="车辆已出售", actor=manager)
        else:
            members.change_status(member, "suspended", on=first, reason="长期联系不上",
                                  actor=manager)
            if role == "reactivated":
                back = first + timedelta(days=story.randint(10, max(11, (today - first).days)))
                members.change_status(member, "active", on=min(back, today), actor=manager)
    return member


def _backdate(application, member, day: date) -> None:
    """Move a decision made today back to the story's business date.

    The application's decision, and for an approval the member's joining date and first
    status period, are the only dates the services set to today.
    """
    from clubplatform.extensions import db
    from hq.members.models import MemberStatusPeriod

    application.decided_on = day
    if member is not None:
        member.joined_on = member.status_since = day
        period = db.session.execute(sa.select(MemberStatusPeriod).where(
            MemberStatusPeriod.member_id == member.id,
            MemberStatusPeriod.valid_to.is_(None))).scalar_one()
        period.valid_from = day
    db.session.flush()


def _load_leads(chapter: dict, members: list, rng: random.Random, fake, today: date,
                staff: list) -> None:
    """Referrals by members: two being followed up, one lost, one bought."""
    from chapter.referrals import service as referrals
    from clubplatform.validators import make_vin

    active = [m for m in members if m.status == "active"]
    for n, outcome in enumerate(("open", "open", "lost", "purchased")):
        if n >= len(active):
            break
        made = today - timedelta(days=rng.randint(10, 120))
        lead = referrals.record_lead(
            {"friend_name": fake.name(), "friend_mobile": f"139{chapter['number']:04d}{n:04d}",
             "model": rng.choice(MODELS), "grade": "HABC"[n],
             "note": "会员推荐，朋友近期有购车计划"},
            referrer=active[n * 3 % len(active)], actor=rng.choice(staff),
            today=today if outcome == "open" else made)
        if outcome == "lost":
            referrals.mark_lost(lead, "已在其他品牌购车", actor=rng.choice(staff))
        elif outcome == "purchased":
            referrals.close_as_purchase(lead, make_vin(rng, "LDM"),
                                        made + timedelta(days=rng.randint(3, 9)),
                                        actor=rng.choice(staff))


def _load_transfers(chapters: list[dict], seed: int) -> None:
    """One member who moved (approved) and one request waiting at the first chapter."""
    from chapter.owners.models import Owner
    from clubplatform.auth.models import User
    from clubplatform.extensions import db
    from clubplatform.tenancy import chapter_scope
    from hq.members import service as members
    from hq.members.models import Member, Transfer

    if len(chapters) < 3:
        return
    moves = ((chapters[1], chapters[2], 1, True),   # approved: moved from 2nd to 3rd
             (chapters[2], chapters[0], 2, False))  # waiting for the first chapter's manager
    for source, target, k, approve in moves:
        mobile = demo_mobile(seed, source["number"], k)
        with chapter_scope(source["id"]):
            member = db.session.execute(
                sa.select(Member).join(Owner, sa.and_(Owner.id == Member.owner_id,
                                                      Owner.chapter_id == Member.chapter_id))
                .where(Owner.mobile == mobile)).scalar_one_or_none()
            if member is None or db.session.execute(
                    sa.select(Transfer.id).where(Transfer.member_id == member.id)).first():
                db.session.remove()
                continue
            manager = db.session.get(User, source["manager_id"])
            transfer = members.request_transfer(member, target["id"], "工作调动，搬到新城市",
                                                manager)
            db.session.commit()
            transfer_id = transfer.id
        db.session.remove()
        if approve:
            with chapter_scope(target["id"]):
                transfer = db.session.get(Transfer, transfer_id)
                members.approve_transfer(transfer, db.session.get(User, target["manager_id"]))
                db.session.commit()
            db.session.remove()


def _load_portal_member(chapter: dict, seed: int) -> list[tuple[str, str, str]]:
    """A member of the first chapter who signed up in the portal (username: the mobile)."""
    from chapter.owners.models import Owner
    from chapter.portal import service as portal
    from chapter.recruitment import service as recruitment
    from chapter.recruitment.models import PENDING, Application
    from clubplatform import dates
    from clubplatform.auth import service as auth
    from clubplatform.auth.models import User
    from clubplatform.extensions import db
    from clubplatform.tenancy import chapter_scope
    from clubplatform.validators import make_id_number

    login = [("member", PORTAL_MOBILE, PASSWORD)]
    if auth.find_user(PORTAL_MOBILE) is not None:
        return login
    rng = random.Random(f"{seed}/portal")
    with chapter_scope(chapter["id"]):
        user = portal.sign_up(chapter_id=chapter["id"], name="陈思远", mobile=PORTAL_MOBILE,
                              password=PASSWORD,
                              id_number=make_id_number(rng, date(1988, 6, 18), "male",
                                                       area="110105"))
        owner_id = db.session.execute(
            sa.select(Owner.id).where(Owner.user_id == user.id)).scalar_one()
        application = db.session.execute(sa.select(Application).where(
            Application.owner_id == owner_id, Application.status == PENDING)).scalar_one()
        member = recruitment.approve_application(
            application, actor=db.session.get(User, chapter["manager_id"]),
            consents={"sms": True, "portal": True})
        _backdate(application, member, dates.today() - timedelta(days=200))
        application.applied_on = dates.today() - timedelta(days=203)
        db.session.commit()
    return login
