"""The member portal's notifications (portal messages from the outbox), with an unread count."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from chapter.portal import service as portal
from clubplatform.auth.models import MEMBER
from clubplatform.extensions import db
from clubplatform.messaging import service as messaging
from clubplatform.security import roles_required

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

member_only = roles_required(MEMBER)


def _member():
    return portal.portal_member(current_user._get_current_object())


@bp.app_context_processor
def _unread():
    """``portal_unread()`` for the navigation: the member's unread notifications."""

    def portal_unread() -> int:
        if not current_user.is_authenticated or current_user.role != MEMBER:
            return 0
        member = _member()
        return messaging.unread_count(member.id) if member is not None else 0

    return {"portal_unread": portal_unread}


@bp.route("/")
@member_only
def index():
    """The member's notifications, newest first."""
    member = _member()
    items = messaging.notifications(member.id) if member is not None else []
    return render_template("portal/notifications.html", items=items)


@bp.route("/read", methods=["POST"])
@member_only
def read_all():
    """Mark every notification read."""
    member = _member()
    if member is not None:
        messaging.mark_read(member.id)
        db.session.commit()
    return redirect(url_for("portal.notifications.index"))


@bp.route("/<int:message_id>/read", methods=["POST"])
@member_only
def read_one(message_id: int):
    """Mark one notification read (another member's answers 404)."""
    member = _member()
    message = messaging.get_message(message_id)
    if member is None or message.member_id != member.id or message.channel != "portal":
        from clubplatform.errors import NotFound

        raise NotFound("no such notification")
    messaging.mark_read(member.id, message_id)
    db.session.commit()
    return redirect(url_for("portal.notifications.index"))
