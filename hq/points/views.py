"""HQ pages: points rules (in force today, history, new values from a date) and tiers.

HQ roles read; HQ admins set new values. Rules are reference data, the same for
every chapter (no tenant scope involved).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from clubplatform import dates
from clubplatform.auth.models import HQ_ADMIN
from clubplatform.errors import DomainError
from clubplatform.extensions import db
from clubplatform.forms import show_domain_error
from clubplatform.security import client_ip, hq_read_required, hq_write_required
from hq.members.models import TIERS
from hq.points import rules
from hq.points.forms import RuleForm
from hq.points.models import RULE_KINDS

#: ``flask points …`` commands hang on this blueprint (see :mod:`hq.points.cli`)
bp = Blueprint("points", __name__, url_prefix="/points", cli_group="points")


def _labels() -> dict:
    return {"kind_labels": rules.KIND_LABELS, "key_labels": rules.KEY_LABELS,
            "is_admin": current_user.role == HQ_ADMIN}


@bp.route("/rules")
@hq_read_required
def rules_index():
    """The points rules in force today, the next values planned, and the tier table."""
    today = dates.today()
    rows = rules.rules_in_force(today)
    by_kind: dict[str, list] = {}
    for row in rows:
        by_kind.setdefault(row.kind, []).append(row)
    tier_rows = [(tier, next((r for r in by_kind["tier_threshold"] if r.key == tier), None),
                  next((r for r in by_kind["tier_multiplier"] if r.key == tier), None))
                 for tier in TIERS]
    return render_template("hq/points/rules.html", by_kind=by_kind, tier_rows=tier_rows,
                           today=today, **_labels())


@bp.route("/rules/<kind>")
@hq_read_required
def rule_history(kind: str):
    """Every value a kind of rule has had, per key, with its dates."""
    if kind not in RULE_KINDS:
        abort(404)
    history = rules.rule_history(kind)
    by_key: dict[str, list] = {key: [] for key in rules.keys_for(kind)}
    for rule in history:
        by_key.setdefault(rule.key, []).append(rule)
    return render_template("hq/points/history.html", kind=kind, by_key=by_key,
                           today=dates.today(), **_labels())


@bp.route("/rules/new", methods=["GET", "POST"])
@hq_write_required
def new_rule():
    """Set a new value of a rule from a future business date."""
    form = RuleForm()
    if request.method == "GET":
        form.kind.data = request.args.get("kind") if request.args.get("kind") in RULE_KINDS \
            else RULE_KINDS[0]
        form.key.data = request.args.get("key", "")
    if form.validate_on_submit():
        try:
            rule = rules.set_rule(form.kind.data, form.key.data or "", form.value.data,
                                  form.effective_from.data, note=form.note.data,
                                  actor=current_user, ip=client_ip())
            db.session.commit()
            flash(_("The new value applies from %(d)s.", d=rule.effective_from.isoformat()),
                  "success")
            return redirect(url_for("hq.points.rule_history", kind=rule.kind))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
    return render_template("hq/points/new.html", form=form, **_labels()), \
        (422 if request.method == "POST" else 200)
