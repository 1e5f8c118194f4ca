"""JSON API: HQ's points rules (read for HQ roles, new values for HQ admins)."""

from __future__ import annotations

from flask import abort
from flask.views import MethodView
from flask_login import current_user

from clubplatform.api import Blueprint
from clubplatform.auth.models import HQ_ADMIN, HQ_ROLES
from clubplatform.extensions import db
from clubplatform.security import client_ip
from hq.points import rules, schemas

blp = Blueprint("api_hq_point_rules", __name__, url_prefix="/points/rules",
                description="Points rules with effective dates (HQ).")


@blp.before_request
def _hq_only():
    if current_user.is_authenticated and current_user.role not in HQ_ROLES:
        abort(403)


@blp.route("")
class PointRules(MethodView):
    @blp.arguments(schemas.PointRuleQueryArgsSchema, location="query")
    @blp.response(200, schemas.PointRuleSchema(many=True))
    def get(self, args):
        """List rules: all with their history, or those in force on a date."""
        return list(db.session.execute(rules.list_rules(**args)).scalars())

    @blp.arguments(schemas.PointRuleCreateSchema)
    @blp.response(201, schemas.PointRuleSchema)
    def post(self, data):
        """Set a new value of a rule from a future date (closes the rule in force then)."""
        if current_user.role != HQ_ADMIN:
            abort(403)
        rule = rules.set_rule(data["kind"], data["key"], data["value"], data["effective_from"],
                              note=data["note"], actor=current_user, ip=client_ip())
        db.session.commit()
        return rule
