"""JSON API of the month-end figures (HQ roles): figures, trend, export, re-snapshot."""

from __future__ import annotations

from flask import Response, abort
from flask.views import MethodView
from flask_login import current_user

from clubplatform.analytics import service
from clubplatform.analytics.figures import FigureRow
from clubplatform.analytics.schemas import (
    ExportQueryArgsSchema,
    FigureRowSchema,
    FiguresQueryArgsSchema,
    FiguresSchema,
    ResnapshotSchema,
    SnapshotMonthSchema,
    TrendQueryArgsSchema,
)
from clubplatform.api import Blueprint
from clubplatform.auth.models import HQ_ADMIN, HQ_ROLES
from clubplatform.extensions import db
from clubplatform.security import client_ip

blp = Blueprint("api_analytics", __name__, url_prefix="/analytics",
                description="Month-end figures HQ decides on (HQ).")


@blp.before_request
def _hq_only():
    if current_user.is_authenticated and current_user.role not in HQ_ROLES:
        abort(403)


def _dump(rows: list[FigureRow], lab: service.Labels) -> list[dict]:
    out = []
    for r in rows:
        d = {k: getattr(r, k) for k in r.__dataclass_fields__}
        d["code"], d["name"] = lab.code(r), lab.name(r)
        out.append(d)
    return out


def _figures(args) -> tuple[list[FigureRow], service.Dashboard]:
    month_end = service.parse_month(args["month"])
    board = service.dashboard(month_end, region_id=args["region_id"], rank_by=args["rank_by"],
                              live=args["live"])
    rows = ([board.nation] if board.nation else []) + board.regions + board.chapters
    if args["level"]:
        rows = [r for r in rows if r.level == args["level"]]
    return rows, board


@blp.route("/figures")
class Figures(MethodView):
    @blp.arguments(FiguresQueryArgsSchema, location="query")
    @blp.response(200, FiguresSchema)
    def get(self, args):
        """A month end's figures: the nation, regions and chapters ranked (snapshot or live)."""
        rows, board = _figures(args)
        return {"month_end": board.month_end, "source": board.source,
                "revision": board.snapshot.revision if board.snapshot else None,
                "rows": _dump(rows, board.labels)}


@blp.route("/trend")
class Trend(MethodView):
    @blp.arguments(TrendQueryArgsSchema, location="query")
    @blp.response(200, FigureRowSchema(many=True))
    def get(self, args):
        """One scope's figures for each month end of a range (snapshots, else live)."""
        first = service.parse_month(args["from_"], field_name="from")
        last = service.parse_month(args["to"], field_name="to")
        rows = service.trend(first, last, level=args["level"], scope_id=args["scope_id"])
        return _dump(rows, service.labels())


@blp.route("/export")
class Export(MethodView):
    @blp.arguments(ExportQueryArgsSchema, location="query")
    @blp.response(200, content_type="text/csv")
    def get(self, args):
        """The month end's figures as CSV or XLSX (audited)."""
        rows, board = _figures(args)
        stem = f"figures-{board.month_end:%Y-%m}-{args['level'] or 'all'}"
        file = service.export(rows, fmt=args["format"], stem=stem, actor=current_user,
                              ip=client_ip())
        db.session.commit()
        return Response(file.content, mimetype=file.mimetype, headers={
            "Content-Disposition": f"attachment; filename={file.filename}"})


@blp.route("/resnapshot")
class Resnapshot(MethodView):
    @blp.arguments(ResnapshotSchema)
    @blp.response(200, SnapshotMonthSchema)
    def post(self, data):
        """Recompute one month's snapshot after a correction (HQ admin; audited)."""
        if current_user.role != HQ_ADMIN:
            abort(403)
        snap = service.resnapshot(service.parse_month(data["month"]), actor=current_user,
                                  reason=data["reason"], ip=client_ip())
        db.session.commit()
        return snap

