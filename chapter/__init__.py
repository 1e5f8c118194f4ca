"""What a chapter runs: owners, recruitment, events, the care list, churn, the portal.

``BLUEPRINTS`` and ``API_BLUEPRINTS`` are registered by the app factory. Chapter
pages are children of the ``chapter`` blueprint, whose guard admits only the
chapter's manager and staff; the member portal is a blueprint of its own.
"""

from chapter.console.views import bp as _chapter
from chapter.demo import load as _load_demo
from chapter.members.api import blp as _members_api
from chapter.members.transfers_api import blp as _transfers_api
from chapter.members.transfers_views import bp as _transfers
from chapter.members.views import bp as _members
from chapter.owners.api import blp as _owners_api
from chapter.owners.import_api import blp as _imports_api
from chapter.owners.import_views import bp as _imports
from chapter.owners.views import bp as _owners
from chapter.points import hooks as _points_hooks  # noqa: F401  (referrals earn points)
from chapter.points.api import blp as _member_points_api
from chapter.points.api import campaigns_blp as _campaigns_api
from chapter.points.api import portal_blp as _portal_points_api
from chapter.points.demo import load as _load_points_demo
from chapter.points.views import bp as _points
from chapter.portal.api import blp as _portal_api
from chapter.portal.perks_views import bp as _portal_perks
from chapter.portal.points_views import bp as _portal_points
from chapter.portal.scope import portal_scope
from chapter.portal.views import bp as _portal
from chapter.recruitment.api import blp as _applications_api
from chapter.recruitment.views import bp as _applications
from chapter.referrals.api import blp as _leads_api
from chapter.referrals.views import bp as _leads
from chapter.reports.views import bp as _reports
from chapter.settlement.views import bp as _settlement
from chapter.staff.views import bp as _staff

for _child in (_staff, _owners, _imports, _applications, _members, _leads, _reports, _transfers,
               _settlement):
    _chapter.register_blueprint(_child)
_chapter.register_blueprint(_points)

_portal.register_blueprint(_portal_perks)
_portal.register_blueprint(_portal_points)

BLUEPRINTS = (_chapter, _portal)
API_BLUEPRINTS = (_owners_api, _applications_api, _members_api, _leads_api, _portal_api,
                  _transfers_api, _imports_api, _member_points_api, _campaigns_api,
                  _portal_points_api)

#: which chapter a user of these roles works in (read by the kernel's request scope)
SCOPE_RESOLVERS = {"member": portal_scope}
#: demo data loaders, run by ``flask demo load`` after the organisation's
DEMO_LOADERS: tuple = (_load_demo, _load_points_demo)
#: jobs ``flask jobs run NAME`` can start
JOBS: dict = {}
