"""JSON API: a chapter's owners, vehicles and visits."""

from __future__ import annotations

from flask import abort, g, request
from flask.views import MethodView
from flask_login import current_user

from chapter.console.api_access import chapter_staff_only
from chapter.owners import schemas, service
from clubplatform.api import Blueprint, CursorPage
from clubplatform.auth.models import CHAPTER_MANAGER
from clubplatform.extensions import db
from clubplatform.security import client_ip

blp = Blueprint("api_owners", __name__, url_prefix="/chapter/owners", description="Owners, vehicles and service visits (chapter).")


chapter_staff_only(blp)


@blp.before_request
def _load_path_objects():
    # Another chapter's owner or vehicle answers 404 before the body is even read.
    args = request.view_args or {}
    if "owner_id" in args:
        g.owner = service.get_owner(args["owner_id"])
    if "vehicle_id" in args:
        g.vehicle = service.get_vehicle(args["vehicle_id"])


def _manager_only():
    if current_user.role != CHAPTER_MANAGER:
        abort(403)


@blp.route("")
class Owners(MethodView):
    @blp.arguments(schemas.OwnerQueryArgsSchema, location="query")
    @blp.response(200, schemas.OwnerSchema(many=True))
    @blp.paginate(CursorPage)
    def get(self, args):
        """Search the chapter's owners (paginated; X-Pagination header)."""
        return service.owner_query(**args)

    @blp.arguments(schemas.OwnerCreateSchema)
    @blp.response(201, schemas.OwnerSchema)
    def post(self, data):
        """Add an owner."""
        owner = service.create_owner(current_user.chapter_id, data, actor=current_user)
        db.session.commit()
        return owner


@blp.route("/<int:owner_id>")
class OwnerById(MethodView):
    @blp.response(200, schemas.OwnerSchema)
    def get(self, owner_id):
        """Get an owner (the ID number masked)."""
        return g.owner

    @blp.arguments(schemas.OwnerUpdateSchema)
    @blp.response(200, schemas.OwnerSchema)
    def patch(self, data, owner_id):
        """Change some of an owner's fields."""
        owner = service.update_owner(g.owner, data, actor=current_user)
        db.session.commit()
        return owner


@blp.route("/<int:owner_id>/reveal")
class OwnerReveal(MethodView):
    @blp.response(200, schemas.OwnerRevealSchema)
    def post(self, owner_id):
        """Reveal an owner's full ID number (chapter manager; audited)."""
        _manager_only()
        number = service.reveal_id_number(g.owner, actor=current_user, ip=client_ip())
        db.session.commit()
        return {"id": owner_id, "id_number": number}


@blp.route("/<int:owner_id>/vehicles")
class OwnerVehicles(MethodView):
    @blp.response(200, schemas.VehicleSchema(many=True))
    @blp.paginate(CursorPage)
    def get(self, owner_id):
        """List an owner's vehicles."""
        return service.vehicle_query(g.owner)

    @blp.arguments(schemas.VehicleCreateSchema)
    @blp.response(201, schemas.VehicleSchema)
    def post(self, data, owner_id):
        """Register a vehicle of an owner."""
        vehicle = service.add_vehicle(g.owner, data)
        db.session.commit()
        return vehicle


@blp.route("/vehicles/<int:vehicle_id>")
class VehicleById(MethodView):
    @blp.response(200, schemas.VehicleSchema)
    def get(self, vehicle_id):
        """Get a vehicle."""
        return g.vehicle

    @blp.arguments(schemas.VehicleUpdateSchema)
    @blp.response(200, schemas.VehicleSchema)
    def patch(self, data, vehicle_id):
        """Change some of a vehicle's fields."""
        vehicle = service.update_vehicle(g.vehicle, data)
        db.session.commit()
        return vehicle


@blp.route("/vehicles/<int:vehicle_id>/visits")
class VehicleVisits(MethodView):
    @blp.response(200, schemas.VisitSchema(many=True))
    @blp.paginate(CursorPage)
    def get(self, vehicle_id):
        """List a vehicle's service visits, newest first."""
        return service.visit_query(g.vehicle)

    @blp.arguments(schemas.VisitCreateSchema)
    @blp.response(201, schemas.VisitSchema)
    def post(self, data, vehicle_id):
        """Record a service visit (work order) of a vehicle."""
        visit = service.add_visit(g.vehicle, data)
        db.session.commit()
        return visit


@blp.route("/reassign")
class Reassign(MethodView):
    @blp.arguments(schemas.OwnerReassignSchema)
    @blp.response(200, schemas.OwnerReassignResultSchema)
    def post(self, data):
        """Move a leaving advisor's owners (all or some) to another advisor (manager; audited)."""
        _manager_only()
        moved = service.reassign_advisor(current_user.chapter_id, actor=current_user,
                                         ip=client_ip(), **data)
        db.session.commit()
        return {"moved": moved}
