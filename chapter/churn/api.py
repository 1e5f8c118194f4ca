"""JSON API: the chapter's churn matrix, owners with RFM, trend; HQ's matrices and settings."""

from __future__ import annotations

from flask import abort
from flask.views import MethodView
from flask_login import current_user

from chapter.churn import schemas, service
from chapter.console.api_access import chapter_staff_only
from clubplatform.api import Blueprint
from clubplatform.auth.models import HQ_ADMIN, HQ_ROLES
from clubplatform.extensions import db
from clubplatform.security import client_ip
from hq.members.service import parse_month

blp = Blueprint("api_churn", __name__, url_prefix="/chapter/churn",
                description="Churn and segmentation (chapter).")
hq_blp = Blueprint("api_hq_churn", __name__, url_prefix="/hq/churn",
                   description="Churn matrices per chapter and region, and the cut-offs (HQ).")


chapter_staff_only(blp)


@hq_blp.before_request
def _hq_only():
    if current_user.is_authenticated and current_user.role not in HQ_ROLES:
        abort(403)


def _as_of(args) -> object:
    return service.as_of_for(parse_month(args.get("month")))


@blp.route("/matrix")
class Matrix(MethodView):
    @blp.arguments(schemas.ChurnQueryArgsSchema, location="query")
    @blp.response(200, schemas.ChurnMatrixSchema)
    def get(self, args):
        """The 3×3 loyalty × value matrix: owners per cell and the action for each."""
        return service.chapter_matrix(current_user.chapter_id, _as_of(args))


@blp.route("/owners")
class Owners(MethodView):
    @blp.arguments(schemas.ChurnOwnersQueryArgsSchema, location="query")
    @blp.response(200, schemas.ChurnOwnerSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Owners with segment, loyalty and RFM scores; one cell with loyalty/value (paginated)."""
        query = service.owners_query(current_user.chapter_id, _as_of(args),
                                     loyalty=args.get("loyalty"), value=args.get("value"))
        page = service.owners_page(current_user.chapter_id, query, pagination_parameters.page,
                                   pagination_parameters.page_size)
        pagination_parameters.item_count = page.total
        return page.items


@blp.route("/trend")
class Trend(MethodView):
    @blp.arguments(schemas.ChurnTrendQueryArgsSchema, location="query")
    @blp.response(200, schemas.ChurnTrendPointSchema(many=True))
    def get(self, args):
        """Share of lost owners (C) at each month end, oldest first."""
        return service.churn_trend(current_user.chapter_id, parse_month(args.get("month")),
                                   args["months"])


@hq_blp.route("/matrix")
class HqMatrix(MethodView):
    @hq_blp.arguments(schemas.HqChurnQueryArgsSchema, location="query")
    @hq_blp.response(200, schemas.HqChurnMatricesSchema)
    def get(self, args):
        """Per chapter of a region, or per region: snapshots of an ended month, else live."""
        text = args.get("month")
        month = parse_month(text) if text else service.last_complete_month()
        view = service.hq_view(month, args.get("region_id"))
        return {"as_of": view["as_of"], "group": view["group"], "source": view["source"],
                "chapters": view["chapters"], "rows": view["rows"], "total": view["total"]}


@hq_blp.route("/settings")
class Settings(MethodView):
    @hq_blp.response(200, schemas.ChurnSettingsSchema)
    def get(self):
        """The cut-offs in effect (HQ's values over the defaults)."""
        return service.get_settings()

    @hq_blp.arguments(schemas.ChurnSettingsUpdateSchema)
    @hq_blp.response(200, schemas.ChurnSettingsSchema)
    def patch(self, data):
        """Change cut-offs (HQ admin); null restores a default."""
        if current_user.role != HQ_ADMIN:
            abort(403)
        settings = service.update_settings(data, actor=current_user, ip=client_ip())
        db.session.commit()
        return settings
