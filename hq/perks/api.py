"""JSON API of partner perks: HQ (partners, perks), the member portal, the partner.

Thin: every rule is in :mod:`hq.perks.service`. HQ roles read, HQ admins write;
members see and take perks and see their vouchers; a partner user checks and uses
their own partner's vouchers (another partner's code answers 404, like an unknown one).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, g
from flask.views import MethodView
from flask_login import current_user

from clubplatform.api import Blueprint, CursorPage
from clubplatform.auth.models import HQ_ADMIN, HQ_ROLES, MEMBER, PARTNER
from clubplatform.extensions import db
from clubplatform.security import client_ip
from hq.perks import schemas, service

blp = Blueprint("api_hq_perks", __name__, url_prefix="/hq/perks",
                description="Partners and perks (HQ).")
portal_blp = Blueprint("api_portal_perks", __name__, url_prefix="/portal",
                       description="Perks the member may take, and their vouchers (member role).")
partner_blp = Blueprint("api_partner", __name__, url_prefix="/partner",
                        description="A partner checks and uses its vouchers (partner role).")


def _me():
    return current_user._get_current_object()


# --- HQ -------------------------------------------------------------------------------

@blp.before_request
def _hq_only():
    if current_user.is_authenticated and current_user.role not in HQ_ROLES:
        abort(403)


def _admin_only():
    if current_user.role != HQ_ADMIN:
        abort(403)


@blp.route("/partners")
class Partners(MethodView):
    @blp.response(200, schemas.PartnerSchema(many=True))
    @blp.paginate(CursorPage)
    def get(self):
        """List partners (paginated)."""
        return service.partner_query()

    @blp.arguments(schemas.PartnerCreateSchema)
    @blp.response(201, schemas.PartnerSchema)
    def post(self, data):
        """Register a partner (HQ admin)."""
        _admin_only()
        partner = service.create_partner(data)
        db.session.commit()
        return partner


@blp.route("/partners/<int:partner_id>")
class PartnerById(MethodView):
    @blp.response(200, schemas.PartnerSchema)
    def get(self, partner_id):
        """Get a partner."""
        return service.get_partner(partner_id)

    @blp.arguments(schemas.PartnerUpdateSchema)
    @blp.response(200, schemas.PartnerSchema)
    def patch(self, data, partner_id):
        """Change a partner or switch it off (HQ admin)."""
        _admin_only()
        partner = service.update_partner(service.get_partner(partner_id), data)
        db.session.commit()
        return partner


@blp.route("/partners/<int:partner_id>/users")
class PartnerUsers(MethodView):
    @blp.response(200, schemas.PartnerUserSchema(many=True))
    def get(self, partner_id):
        """The partner's logins."""
        return service.partner_users(service.get_partner(partner_id))

    @blp.arguments(schemas.PartnerUserCreateSchema)
    @blp.response(201, schemas.PartnerUserSchema)
    def post(self, data, partner_id):
        """Create a login for the partner (role ``partner``; HQ admin)."""
        _admin_only()
        user = service.add_partner_user(service.get_partner(partner_id), actor=_me(),
                                        ip=client_ip(), **data)
        db.session.commit()
        return user


@blp.route("")
class Perks(MethodView):
    @blp.arguments(schemas.PerkQueryArgsSchema, location="query")
    @blp.response(200, schemas.PerkSchema(many=True))
    @blp.paginate(CursorPage)
    def get(self, args):
        """List perks with the vouchers taken (paginated)."""
        return service.perk_query(**args)

    @blp.arguments(schemas.PerkCreateSchema)
    @blp.response(201, schemas.PerkSchema)
    def post(self, data):
        """Create a perk as a draft (HQ admin)."""
        _admin_only()
        perk = service.create_perk(data)
        db.session.commit()
        return perk


@blp.route("/<int:perk_id>")
class PerkById(MethodView):
    @blp.response(200, schemas.PerkSchema)
    def get(self, perk_id):
        """Get a perk."""
        return service.get_perk(perk_id)

    @blp.arguments(schemas.PerkUpdateSchema)
    @blp.response(200, schemas.PerkSchema)
    def patch(self, data, perk_id):
        """Change a perk (HQ admin)."""
        _admin_only()
        perk = service.update_perk(service.get_perk(perk_id), data)
        db.session.commit()
        return perk


@blp.route("/<int:perk_id>/publish")
class PublishPerk(MethodView):
    @blp.response(200, schemas.PerkSchema)
    def post(self, perk_id):
        """Publish a draft perk (HQ admin)."""
        _admin_only()
        perk = service.publish_perk(service.get_perk(perk_id))
        db.session.commit()
        return perk


@blp.route("/<int:perk_id>/withdraw")
class WithdrawPerk(MethodView):
    @blp.response(200, schemas.PerkSchema)
    def post(self, perk_id):
        """Withdraw a published perk (HQ admin)."""
        _admin_only()
        perk = service.withdraw_perk(service.get_perk(perk_id))
        db.session.commit()
        return perk


# --- member portal ----------------------------------------------------------------------

@portal_blp.before_request
def _members_only():
    if current_user.is_authenticated and current_user.role != MEMBER:
        abort(403)


@portal_blp.route("/perks")
class PortalPerks(MethodView):
    @portal_blp.response(200, schemas.OfferedPerkSchema(many=True))
    def get(self):
        """Perks on offer, each with whether the member may take it now and why not."""
        return service.perks_for_member(service.require_member_of_user(_me()))


@portal_blp.route("/perks/<int:perk_id>/take")
class TakePerk(MethodView):
    @portal_blp.arguments(schemas.TakeSchema)
    @portal_blp.response(201, schemas.MemberVoucherSchema)
    def post(self, data, perk_id):
        """Take a perk: spend its points and get a voucher code (same token: once)."""
        member = service.require_member_of_user(_me())
        taken = service.take_perk(member, perk_id, client_token=data.get("client_token"),
                                  actor=_me())
        db.session.commit()
        return service.voucher_views([taken.voucher])[0]


@portal_blp.route("/vouchers")
class PortalVouchers(MethodView):
    @portal_blp.response(200, schemas.MemberVoucherSchema(many=True))
    @portal_blp.paginate()
    def get(self, pagination_parameters):
        """The member's vouchers, newest first (paginated)."""
        stmt = service.member_vouchers_query(service.require_member_of_user(_me()))
        return _views_page(stmt, pagination_parameters)


def _views_page(stmt, pagination_parameters, partner=None):
    pagination_parameters.item_count = db.session.execute(
        sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    rows = list(db.session.execute(
        stmt.limit(pagination_parameters.page_size).offset(pagination_parameters.first_item)
    ).scalars())
    if partner is not None:
        return service.partner_vouchers_views(partner, rows)
    return service.voucher_views(rows)


# --- partner ----------------------------------------------------------------------------

@partner_blp.before_request
def _partner_only():
    if not current_user.is_authenticated:
        return
    if current_user.role != PARTNER:
        abort(403)
    g.partner = service.partner_of_user(current_user)
    if g.partner is None or not g.partner.active:
        abort(403)


@partner_blp.route("/vouchers")
class PartnerVouchers(MethodView):
    @partner_blp.response(200, schemas.PartnerVoucherSchema(many=True))
    @partner_blp.paginate()
    def get(self, pagination_parameters):
        """The partner's used vouchers, latest first (paginated)."""
        return _views_page(service.partner_used_query(g.partner), pagination_parameters,
                           partner=g.partner)


@partner_blp.route("/vouchers/<code>")
class PartnerVoucherByCode(MethodView):
    @partner_blp.response(200, schemas.PartnerVoucherSchema)
    def get(self, code):
        """Check a code: perk, status, validity and the holder's masked name."""
        return service.check_voucher(g.partner, code)


@partner_blp.route("/vouchers/<code>/use")
class UseVoucher(MethodView):
    @partner_blp.response(200, schemas.PartnerVoucherSchema)
    def post(self, code):
        """Mark the voucher used (once; a used or expired voucher is refused)."""
        view = service.use_voucher(g.partner, code, actor=_me())
        db.session.commit()
        return view
