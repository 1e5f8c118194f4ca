"""What the isolation sweep knows about every route that takes an argument.

``OBJECTS`` maps a URL argument name to a factory that creates an object of chapter
A and returns the argument's value. Each capability adds its own objects here.
``NOT_TENANT_OBJECTS`` lists (endpoint, reason) for routes whose arguments are not
a chapter's object. A route with an argument in neither makes the sweep fail.
"""

from __future__ import annotations

from clubplatform.auth import service as auth
from clubplatform.extensions import db
from clubplatform.jobs.models import JobRun


def _token_of_manager_a(ctx):
    token, _ = auth.create_token(ctx["manager_a"], "sweep", days=5)
    db.session.commit()
    return token.id


def _job_of_chapter_a(ctx):
    run = JobRun(id=f"sweep-c{ctx['a'].id}-1", name="org.import_dealers",
                 chapter_id=ctx["a"].id, user_id=ctx["staff_a"].id, status="finished")
    db.session.add(run)
    db.session.commit()
    return run.id


OBJECTS = {
    # chapter A's staff account
    "user_id": lambda ctx: ctx["staff_a"].id,
    # chapter A's own organisation records (HQ pages: chapter users get 403 for all)
    "chapter_id": lambda ctx: ctx["a"].id,
    "dealer_id": lambda ctx: ctx["a"].dealer_id,
    "region_id": lambda ctx: ctx["a"].dealer.region_id,
    # an API token of chapter A's manager
    "token_id": _token_of_manager_a,
    # a background job of chapter A
    "job_id": _job_of_chapter_a,
    # chapter A's owner, and a vehicle of another of its owners (chapter/owners)
    "owner_id": lambda ctx: _owner_of_chapter_a(ctx),
    "vehicle_id": lambda ctx: _vehicle_of_chapter_a(ctx),
    # a pending application and a member of chapter A (chapter/recruitment, chapter/members)
    "application_id": lambda ctx: _recruitment_factories().make_application(ctx["a"]).id,
    "member_id": lambda ctx: _recruitment_factories().make_member_of(ctx["a"]).id,
    # chapter A's member asked to move to a third chapter (hq/members transfers)
    "transfer_id": lambda ctx: _transfer_of_chapter_a(ctx),
    # a lead of chapter A referred by one of its members (chapter/referrals)
    "lead_id": lambda ctx: _lead_of_chapter_a(ctx),
    # an import file of chapter A waiting for its column mapping (chapter/owners imports)
    "upload_id": lambda ctx: _staged_upload_of_chapter_a(ctx),
    # chapter A's statement of a month, and a partner's (hq/settlement)
    "statement_id": lambda ctx: _statement_of_chapter_a(ctx),
    "partner_statement_id": lambda ctx: _partner_statement(ctx),
    # a partner, its published perk and a voucher chapter A's member took (hq/perks;
    # HQ, partner and portal routes: chapter users get 403 for all)
    "partner_id": lambda ctx: _perk_objects(ctx)["partner_id"],
    "perk_id": lambda ctx: _perk_objects(ctx)["perk_id"],
    "code": lambda ctx: _perk_objects(ctx)["code"],
    # a points campaign of chapter A (chapter/points)
    "campaign_id": lambda ctx: _campaign_of_chapter_a(ctx),
    # a care task of chapter A, and an outbox message to one of its members (chapter/care)
    "task_id": lambda ctx: _care_task_of_chapter_a(ctx),
    "message_id": lambda ctx: _outbox_message_of_chapter_a(ctx),
    # a complaint of chapter A's owner (chapter/complaints; portal routes: chapter users get 403)
    "complaint_id": lambda ctx: _complaint_of_chapter_a(ctx),
    # an event of chapter A (today, check-in open) and a member's registration for it
    # (chapter/events); an HQ event template (HQ routes: chapter users get 403 for all)
    "event_id": lambda ctx: _event_objects(ctx)["event_id"],
    "registration_id": lambda ctx: _event_objects(ctx)["registration_id"],
    "template_id": lambda ctx: _event_objects(ctx)["template_id"],
}


def _event_objects(ctx):
    """Chapter A's event, a registration for it and an HQ template, made once per sweep."""
    if "_events" not in ctx:
        from datetime import timedelta

        from chapter.events import service
        from clubplatform.db import utcnow
        from tests.chapter.events.factories import make_event_today, register
        from tests.factories import make_member

        event_id = make_event_today(ctx["a"], capacity=5)
        registration_id = register(ctx["a"], event_id, make_member(ctx["a"]).id,
                                   now=utcnow() - timedelta(days=3))
        template = service.save_template({"type": "car_care", "title_zh": "爱车课堂",
                                          "published": True})
        db.session.commit()
        ctx["_events"] = {"event_id": event_id, "registration_id": registration_id,
                          "template_id": template.id}
    return ctx["_events"]


def _complaint_of_chapter_a(ctx):
    from tests.chapter.complaints.factories import make_complaint

    return make_complaint(ctx["a"], staff=ctx["staff_a"]).id


def _campaign_of_chapter_a(ctx):
    from tests.chapter.points.factories import make_campaign

    return make_campaign(ctx["a"]).id


def _staged_upload_of_chapter_a(ctx):
    from tests.chapter.imports.factories import make_staged_upload

    return make_staged_upload(ctx["a"], ctx["staff_a"])


def _lead_of_chapter_a(ctx):
    from tests.chapter.referrals.factories import make_lead
    from tests.factories import make_member

    return make_lead(ctx["a"], referrer=make_member(ctx["a"], by=ctx["manager_a"])).id


def _owner_of_chapter_a(ctx):
    from tests.factories import make_owner

    return make_owner(ctx["a"]).id


def _vehicle_of_chapter_a(ctx):
    from tests.chapter.owners.factories import make_vehicle

    return make_vehicle(ctx["a"]).id


def _transfer_of_chapter_a(ctx):
    from tests.chapter.transfers.factories import transfer_of_chapter_a

    return transfer_of_chapter_a(ctx)


def _recruitment_factories():
    from tests.chapter.recruitment import factories

    return factories

NOT_TENANT_OBJECTS = {
    "static": "static files, the same for everyone",
    "api_docs_assets": "Swagger UI's static files",
    "main.set_language": "the argument is a language code",
    "hq.points.rule_history": "the argument is a kind of HQ points rule, the same for every chapter",
    "hq_events.export": "the argument is a file format (csv or xlsx) of HQ's events report",
}


def _statement_of_chapter_a(ctx):
    from datetime import date

    from hq.points.models import ChapterStatement

    st = ChapterStatement(chapter_id=ctx["a"].id, month=date(2025, 3, 1))
    with _unscoped("sweep"):
        db.session.add(st)
        db.session.commit()
    return st.id


def _partner_statement(ctx):
    from datetime import date

    from hq.points.models import PartnerStatement
    from tests.hq.settlement.factories import make_partner

    st = PartnerStatement(partner_id=make_partner().id, month=date(2025, 3, 1))
    db.session.add(st)
    db.session.commit()
    return st.id


def _unscoped(reason):
    from clubplatform.tenancy import unscoped

    return unscoped(reason)


def _perk_objects(ctx):
    """A partner, a perk and a voucher of chapter A's member, made once per sweep."""
    if "_perks" not in ctx:
        from hq.perks import service
        from tests.factories import make_member
        from tests.hq.perks.factories import load_member, make_partner, make_perk

        partner = make_partner()
        perk = make_perk(partner, points_cost=0)
        member_id = make_member(ctx["a"], by=ctx["manager_a"]).id
        with _unscoped("sweep"):
            code = service.take_perk(load_member(member_id), perk.id).voucher.code
            db.session.commit()
        ctx["_perks"] = {"partner_id": partner.id, "perk_id": perk.id, "code": code}
    return ctx["_perks"]


def _care_task_of_chapter_a(ctx):
    from chapter.care import service as care
    from clubplatform.tenancy import chapter_scope
    from tests.factories import make_owner

    owner = make_owner(ctx["a"])
    with chapter_scope(ctx["a"].id):
        task = care.add_task(chapter_id=ctx["a"].id, owner_id=owner.id, reason="sweep",
                             due_on=owner.created_at.date(), source_key="sweep:1")
        db.session.commit()
        return task.id


def _outbox_message_of_chapter_a(ctx):
    from clubplatform.messaging import service as messaging
    from clubplatform.tenancy import chapter_scope
    from tests.factories import make_member

    member = make_member(ctx["a"])
    with chapter_scope(ctx["a"].id):
        msg = messaging.queue_message(chapter_id=ctx["a"].id, member_id=member.id,
                                      channel="portal", kind="sweep", dedupe_key="sweep:1",
                                      recipient=str(member.id), body="sweep")
        msg.status = "failed"
        db.session.commit()
        return msg.id
