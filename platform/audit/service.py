"""Writing and reading the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from clubplatform.audit.models import AuditLog
from clubplatform.extensions import db

#: actions recorded, with their labels for the audit page filter
ACTIONS = (
    "login",
    "login_failed",
    "login_locked",
    "logout",
    "password_changed",
    "user_created",
    "user_updated",
    "role_changed",
    "user_deactivated",
    "user_reactivated",
    "token_created",
    "token_revoked",
    "region_saved",
    "dealer_saved",
    "chapter_opened",
    "chapter_updated",
    "chapter_closed",
    "import_started",
    "export",
    "reveal",
    "owners_reassigned",
    "application_submitted",
    "application_rejected",
    "member_joined",
    "member_status_changed",
    "transfer_requested",
    "transfer_approved",
    "transfer_rejected",
    "consent_changed",
    "member_anonymised",
    "transfer_cancelled",
    "profile_updated",
    "referral_purchase",
    "analytics_resnapshot",
)


def record(
    action: str,
    *,
    actor: Any = None,
    actor_name: str | None = None,
    chapter_id: int | None = None,
    target_type: str | None = None,
    target_id: Any = None,
    ip: str | None = None,
    details: dict | None = None,
) -> AuditLog:
    """Add an audit entry to the session (the edge commits it with its own work)."""
    entry = AuditLog(
        action=action,
        actor_id=getattr(actor, "id", None),
        actor_name=actor_name if actor_name is not None else getattr(actor, "username", "") or "",
        chapter_id=chapter_id,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        ip=ip,
        details=details or {},
    )
    db.session.add(entry)
    return entry


@dataclass
class AuditFilter:
    action: str | None = None
    actor: str | None = None
    chapter_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def audit_query(f: AuditFilter) -> sa.Select:
    """Entries matching the filter, newest first."""
    q = sa.select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc())
    if f.action:
        q = q.where(AuditLog.action == f.action)
    if f.actor:
        q = q.where(AuditLog.actor_name.ilike(f"%{f.actor.strip()}%"))
    if f.chapter_id:
        q = q.where(AuditLog.chapter_id == f.chapter_id)
    if f.since:
        q = q.where(AuditLog.at >= f.since)
    if f.until:
        q = q.where(AuditLog.at < f.until)
    return q
