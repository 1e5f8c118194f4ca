"""The HQ console: the parent blueprint of every HQ page, and its home page."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from clubplatform import dates
from clubplatform.audit import service as audit
from clubplatform.auth.models import HQ_ROLES, User
from clubplatform.extensions import db
from clubplatform.org.models import Chapter, Dealer, Region

bp = Blueprint("hq", __name__, url_prefix="/hq", template_folder="../templates")


@bp.before_request
@login_required
def _hq_only():
    """Every HQ page (this blueprint and its children) is for HQ roles only."""
    if current_user.role not in HQ_ROLES:
        abort(403)


@bp.route("/")
def home():
    """HQ home: the organisation at a glance and recent activity."""
    today = dates.today()
    has_fas = sa.and_(
        Dealer.full_after_sales_since.is_not(None),
        Dealer.full_after_sales_since <= today,
        sa.or_(Dealer.full_after_sales_until.is_(None), Dealer.full_after_sales_until >= today),
        Dealer.closed_on.is_(None),
    )
    open_chapter = sa.and_(Chapter.founded_on <= today, Chapter.closed_on.is_(None))
    row = db.session.execute(sa.select(
        sa.select(sa.func.count()).select_from(Region).scalar_subquery(),
        sa.select(sa.func.count()).select_from(Dealer).where(Dealer.closed_on.is_(None))
        .scalar_subquery(),
        sa.select(sa.func.count()).select_from(Dealer).where(has_fas).scalar_subquery(),
        sa.select(sa.func.count()).select_from(Chapter).where(open_chapter).scalar_subquery(),
    )).one()
    regions, dealers, fas, chapters = row
    by_region = db.session.execute(
        sa.select(
            Region.code, Region.name_zh, Region.name_en,
            sa.func.count(sa.distinct(Dealer.id)).filter(has_fas),
            sa.func.count(sa.distinct(Chapter.id)).filter(open_chapter),
        )
        .select_from(Region)
        .outerjoin(Dealer, Dealer.region_id == Region.id)
        .outerjoin(Chapter, Chapter.dealer_id == Dealer.id)
        .group_by(Region.id, Region.code, Region.name_zh, Region.name_en)
        .order_by(Region.code)
    ).all()
    users = dict(db.session.execute(
        sa.select(User.role, sa.func.count()).where(User.is_active_user.is_(True))
        .group_by(User.role)).all())
    recent = db.session.execute(audit.audit_query(audit.AuditFilter()).limit(10)).scalars().all()
    return render_template(
        "hq/console/home.html", regions=regions, dealers=dealers, fas=fas, chapters=chapters,
        by_region=by_region, users=users, recent=recent, today=today,
    )
