"""JSON API for regions, dealers and chapters (HQ)."""

from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user

from clubplatform.api import Blueprint, CursorPage
from clubplatform.auth.models import HQ_ADMIN, HQ_ROLES
from clubplatform.extensions import db
from clubplatform.org import schemas, service
from clubplatform.security import client_ip

blp = Blueprint("api_org", __name__, url_prefix="/org",
                description="Regions, dealers and chapters (HQ).")


@blp.before_request
def _hq_only():
    from flask import abort

    if current_user.is_authenticated and current_user.role not in HQ_ROLES:
        abort(403)


def _admin_only():
    from flask import abort

    if current_user.role != HQ_ADMIN:
        abort(403)


@blp.route("/regions")
class Regions(MethodView):
    @blp.response(200, schemas.RegionSchema(many=True))
    def get(self):
        """List regions."""
        return service.list_regions()

    @blp.arguments(schemas.RegionSchema)
    @blp.response(201, schemas.RegionSchema)
    def post(self, data):
        """Create a region."""
        _admin_only()
        region = service.save_region(**data, actor=current_user, ip=client_ip())
        db.session.commit()
        return region


@blp.route("/regions/<int:region_id>")
class RegionById(MethodView):
    @blp.response(200, schemas.RegionSchema)
    def get(self, region_id):
        """Get a region."""
        return service.get_region(region_id)

    @blp.arguments(schemas.RegionSchema)
    @blp.response(200, schemas.RegionSchema)
    def put(self, data, region_id):
        """Replace a region's code and names."""
        _admin_only()
        region = service.save_region(**data, region=service.get_region(region_id),
                                     actor=current_user, ip=client_ip())
        db.session.commit()
        return region


@blp.route("/dealers")
class Dealers(MethodView):
    @blp.arguments(schemas.DealerQueryArgsSchema, location="query")
    @blp.response(200, schemas.DealerSchema(many=True))
    @blp.paginate(CursorPage)
    def get(self, args):
        """List dealers (paginated; X-Pagination header)."""
        return service.dealer_query(**args)

    @blp.arguments(schemas.DealerCreateSchema)
    @blp.response(201, schemas.DealerSchema)
    def post(self, data):
        """Create a dealer."""
        _admin_only()
        dealer = service.save_dealer(data, actor=current_user, ip=client_ip())
        db.session.commit()
        return dealer


@blp.route("/dealers/<int:dealer_id>")
class DealerById(MethodView):
    @blp.response(200, schemas.DealerSchema)
    def get(self, dealer_id):
        """Get a dealer."""
        return service.get_dealer(dealer_id)

    @blp.arguments(schemas.DealerUpdateSchema)
    @blp.response(200, schemas.DealerSchema)
    def patch(self, data, dealer_id):
        """Change some of a dealer's fields."""
        _admin_only()
        dealer = service.get_dealer(dealer_id)
        current = {k: getattr(dealer, k) for k in (
            "code", "name", "region_id", "city", "full_after_sales_since",
            "full_after_sales_until", "closed_on")}
        current.update(data)
        dealer = service.save_dealer(current, dealer=dealer, actor=current_user, ip=client_ip())
        db.session.commit()
        return dealer


@blp.route("/chapters")
class Chapters(MethodView):
    @blp.arguments(schemas.ChapterQueryArgsSchema, location="query")
    @blp.response(200, schemas.ChapterSchema(many=True))
    @blp.paginate(CursorPage)
    def get(self, args):
        """List chapters (paginated)."""
        return service.chapter_query(**args)

    @blp.arguments(schemas.ChapterCreateSchema)
    @blp.response(201, schemas.ChapterSchema)
    def post(self, data):
        """Found a chapter at a dealer with full after-sales function."""
        _admin_only()
        chapter = service.open_chapter(**data, actor=current_user, ip=client_ip())
        db.session.commit()
        return chapter


@blp.route("/chapters/<int:chapter_id>")
class ChapterById(MethodView):
    @blp.response(200, schemas.ChapterSchema)
    def get(self, chapter_id):
        """Get a chapter."""
        return service.get_chapter(chapter_id)

    @blp.arguments(schemas.ChapterUpdateSchema)
    @blp.response(200, schemas.ChapterSchema)
    def patch(self, data, chapter_id):
        """Rename or close a chapter."""
        _admin_only()
        chapter = service.get_chapter(chapter_id)
        if "name" in data:
            service.rename_chapter(chapter, data["name"], actor=current_user, ip=client_ip())
        if "closed_on" in data:
            service.close_chapter(chapter, data["closed_on"], actor=current_user, ip=client_ip())
        db.session.commit()
        return chapter
