"""The chapter console: the parent blueprint of every chapter page, and its home page."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from clubplatform.auth.models import CHAPTER_ROLES
from clubplatform.auth.service import chapter_staff_query
from clubplatform.extensions import db
from clubplatform.jobs.models import JobRun
from clubplatform.org.service import get_chapter

bp = Blueprint("chapter", __name__, url_prefix="/chapter", template_folder="../templates")


@bp.before_request
@login_required
def _chapter_only():
    """Every chapter page is for the chapter's manager and staff (their chapter only)."""
    if current_user.role not in CHAPTER_ROLES or current_user.chapter_id is None:
        abort(403)


@bp.route("/")
def home():
    """The chapter's home page."""
    chapter = get_chapter(current_user.chapter_id)
    staff = db.session.execute(chapter_staff_query(chapter.id)).scalars().all()
    jobs = db.session.execute(
        sa.select(JobRun).where(JobRun.chapter_id == chapter.id)
        .order_by(JobRun.created_at.desc()).limit(5)
    ).scalars().all()
    return render_template("chapter/console/home.html", chapter=chapter, staff=staff, jobs=jobs)
