"""Demo data of complaints: a dozen per chapter over the past year, in every state.

Runs after the chapters' and points' demo data, inside each chapter's scope with a fresh
session, through the service (so the timeline, the ledger and the care list are written
the way the pages write them); the story's dates are then moved back. Idempotent: a
chapter that already has complaints is skipped.
"""

from __future__ import annotations

import random
from datetime import timedelta

#: complaints per demo chapter
PER_CHAPTER = 12
DESCRIPTIONS = {
    "product_quality": ("仪表盘异响，已经反映过两次", "车窗升降偶尔卡顿", "空调出风有异味"),
    "repair_quality": ("保养后发动机故障灯亮", "钣金喷漆有色差", "更换刹车片后仍有异响"),
    "staff_mistake": ("结算时多收了工时费", "预约时间被弄错，白跑一趟", "交车时漏装了脚垫"),
    "service_attitude": ("接待顾问态度冷淡", "等候时间过长没有人解释", "电话多次无人接听"),
    "beyond_policy": ("要求免费更换超保部件", "要求报销往返交通费用", "要求赠送全年保养"),
}
RESOLUTIONS = ("已免费返修并试车确认", "退还多收费用并致歉", "顾问上门道歉，客户表示理解",
               "按政策解释，客户接受", "更换部件后问题解决")


def load(seed: int = 20261124, *, chapters: int | None = None) -> list[tuple[str, str, str]]:
    """Record, work and close the demo chapters' complaints (idempotent); no extra logins."""
    import sqlalchemy as sa

    from chapter.complaints import service
    from chapter.complaints.models import CAUSES, Complaint, ComplaintContact
    from chapter.demo import _demo_chapters
    from chapter.owners.models import Owner, ServiceVisit
    from clubplatform.auth.models import CHAPTER_ROLES, User
    from clubplatform.db import utcnow
    from clubplatform.extensions import db
    from clubplatform.tenancy import chapter_scope

    db.session.remove()
    for chapter in _demo_chapters()[:chapters]:
        rng = random.Random(f"{seed}/{chapter['code']}/complaints")
        with chapter_scope(chapter["id"]):
            if db.session.execute(sa.select(Complaint.id).limit(1)).first():
                db.session.remove()
                continue
            staff = db.session.execute(sa.select(User).where(
                User.chapter_id == chapter["id"], User.role.in_(CHAPTER_ROLES))
                .order_by(User.id)).scalars().all()
            visits = db.session.execute(
                sa.select(ServiceVisit).order_by(ServiceVisit.id).limit(200)).scalars().all()
            if not staff or not visits:
                db.session.remove()
                continue
            now = utcnow()
            for n in range(PER_CHAPTER):
                visit = rng.choice(visits)
                owner = db.session.execute(
                    sa.select(Owner).where(Owner.id == visit.owner_id)).scalar_one()
                actor = rng.choice(staff)
                cause = CAUSES[n % len(CAUSES)]
                received = now - timedelta(days=rng.randint(2, 360), hours=rng.randint(0, 8))
                portal = n % 4 == 3
                complaint = service.record_complaint(owner, {
                    "channel": rng.choice(("phone", "in_person", "online")),
                    "cause": cause, "severity": rng.choice(("low", "medium", "medium", "high")),
                    "description": rng.choice(DESCRIPTIONS[cause]),
                    "vehicle_id": visit.vehicle_id, "visit_id": visit.id,
                    "assignee_id": actor.id,
                    "callback_due_at": received + timedelta(hours=rng.choice((2, 4, 24))),
                }, actor=actor, raised_by="member" if portal else "staff", now=received)
                if portal:
                    service.acknowledge(complaint, assignee_id=actor.id,
                                        callback_due_at=received + timedelta(hours=6),
                                        actor=actor, now=received + timedelta(hours=1))
                service.log_contact(complaint, "已致电车主说明处理进度", actor=actor,
                                    now=received + timedelta(hours=3))
                if n < PER_CHAPTER - 3:  # most are closed; three stay open
                    closed = received + timedelta(days=rng.randint(1, 6), hours=rng.randint(0, 20))
                    goodwill = rng.choice(("none", "none", "voucher", "points"))
                    data = {"resolution": rng.choice(RESOLUTIONS), "goodwill_kind": "none",
                            "satisfaction": rng.choice((3, 4, 4, 5, 5, 2))}
                    if goodwill == "voucher":
                        data.update(goodwill_kind="voucher", goodwill_reason="客户体验补偿",
                                    voucher_note="免费洗车及全车检查一次")
                    elif goodwill == "points" and service.owner_member(complaint) is not None \
                            and service.owner_member(complaint).status == "active":
                        data.update(goodwill_kind="points", goodwill_points=rng.choice((200, 500)),
                                    goodwill_reason="维修延误补偿")
                    service.close_complaint(complaint, data, actor=actor, now=closed)
                    if n == 0:
                        service.reopen_complaint(complaint, "车主反映问题再次出现", actor=actor,
                                                 now=closed + timedelta(days=3))
                        service.close_complaint(complaint, {
                            "resolution": "再次返修，问题彻底解决", "satisfaction": 4},
                            actor=actor, now=closed + timedelta(days=5))
                # the story's dates: timeline entries and timestamps at the time they happened
                db.session.execute(sa.update(ComplaintContact).where(
                    ComplaintContact.complaint_id == complaint.id)
                    .values(created_at=received + timedelta(hours=1)))
                complaint.created_at = received
            service.escalate_due(chapter["id"], now=now)
            db.session.commit()
        db.session.remove()
    return []
