"""HQ pages over the care list: completion per chapter and region, and the default rules.

Lives in the chapter wing (hq never imports chapter) as its own blueprint, guarded for
HQ roles; it reads across chapters only inside ``unscoped(...)`` (service.hq_completion).
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from chapter.care import rules as care_rules
from chapter.care import service
from chapter.care.forms import CHANNEL_LABELS, RuleForm
from chapter.care.views import DAYS_PARAM
from clubplatform import dates
from clubplatform.auth.models import HQ_ADMIN, HQ_ROLES
from clubplatform.errors import DomainError
from clubplatform.extensions import db
from clubplatform.forms import choices, show_domain_error

bp = Blueprint("hq_care", __name__, url_prefix="/hq/care", template_folder="../templates")


@bp.before_request
@login_required
def _hq_only():
    """HQ staff only (admin writes, analyst reads)."""
    if current_user.role not in HQ_ROLES:
        abort(403)


def _date(name: str, default: date) -> date:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return default


@bp.route("/")
def completion():
    """Care-list completion per chapter and region for a period (default: this month)."""
    today = dates.today()
    day_from = _date("from", today.replace(day=1))
    day_to = _date("to", today)
    lines = service.hq_completion(day_from, day_to)
    return render_template("chapter/care/hq_completion.html", lines=lines,
                           regions=service.hq_completion_by_region(lines),
                           day_from=day_from, day_to=day_to)


@bp.route("/rules", methods=["GET", "POST"])
def rules():
    """HQ's default care rules (every chapter follows them unless it changes one)."""
    form = RuleForm()
    form.kind.choices = choices([(k, k) for k in sorted(
        {r["kind"] for r in care_rules.DEFAULT_RULES.values()})])
    if request.method == "POST":
        if current_user.role != HQ_ADMIN:
            abort(403)
        if form.validate_on_submit():
            code = form.code.data.strip().lower()
            existing = {r.code: r for r in care_rules.effective_rules(None)}
            params = dict(existing[code].params) if code in existing else None
            key = DAYS_PARAM.get(form.kind.data)
            if key and form.days.data:
                params = {**(params or {}), key: form.days.data}
            try:
                service.save_hq_rule({"code": code, "kind": form.kind.data,
                                      "channel": form.channel.data, "params": params,
                                      "label": form.label.data, "active": form.active.data})
                db.session.commit()
                flash(_("The rule has been saved."), "success")
                return redirect(url_for("hq_care.rules"))
            except DomainError as exc:
                db.session.rollback()
                show_domain_error(form, exc)
    return render_template("chapter/care/hq_rules.html", form=form,
                           rules=care_rules.effective_rules(None), channel_labels=CHANNEL_LABELS,
                           can_write=current_user.role == HQ_ADMIN), \
        422 if request.method == "POST" else 200
