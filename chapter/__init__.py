"""What a chapter runs: owners, recruitment, events, the care list, churn, the portal.

``BLUEPRINTS`` and ``API_BLUEPRINTS`` are registered by the app factory. Chapter
pages are children of the ``chapter`` blueprint, whose guard admits only the
chapter's manager and staff; the member portal is a blueprint of its own.
"""

from chapter.care.api import blp as _care_api
from chapter.care.demo import load as _load_care_demo
from chapter.care.hq_views import bp as _hq_care
from chapter.care.jobs import JOBS as _CARE_JOBS
from chapter.care.portal_views import bp as _portal_notifications
from chapter.care.views import bp as _care
from chapter.churn.api import blp as _churn_api
from chapter.churn.api import hq_blp as _hq_churn_api
from chapter.churn.jobs import JOBS as _CHURN_JOBS
from chapter.churn.views import bp as _churn
from chapter.churn.views import hq_bp as _hq_churn
from chapter.complaints.api import blp as _complaints_api
from chapter.complaints.api import hq_blp as _hq_complaints_api
from chapter.complaints.api import portal_blp as _portal_complaints_api
from chapter.complaints.demo import load as _load_complaints_demo
from chapter.complaints.hq_views import bp as _hq_complaints
from chapter.complaints.jobs import JOBS as _COMPLAINTS_JOBS
from chapter.complaints.portal_views import bp as _portal_complaints
from chapter.complaints.views import bp as _complaints
from chapter.console.views import bp as _chapter
from chapter.demo import load as _load_demo
from chapter.events.api import blp as _events_api
from chapter.events.api import hq_blp as _hq_events_api
from chapter.events.api import portal_blp as _portal_events_api
from chapter.events.demo import load as _load_events_demo
from chapter.events.hq_views import bp as _hq_events
from chapter.events.jobs import JOBS as _EVENTS_JOBS
from chapter.events.portal_views import bp as _portal_events
from chapter.events.views import bp as _events
from chapter.members.api import blp as _members_api
from chapter.members.transfers_api import blp as _transfers_api
from chapter.members.transfers_views import bp as _transfers
from chapter.members.views import bp as _members
from chapter.owners.api import blp as _owners_api
from chapter.owners.import_api import blp as _imports_api
from chapter.owners.import_views import bp as _imports
from chapter.owners.jobs import JOBS as _OWNERS_JOBS
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
_chapter.register_blueprint(_churn)

_portal.register_blueprint(_portal_perks)
_portal.register_blueprint(_portal_points)

BLUEPRINTS = (_chapter, _portal)
API_BLUEPRINTS = (_owners_api, _applications_api, _members_api, _leads_api, _portal_api,
                  _transfers_api, _imports_api, _member_points_api, _campaigns_api,
                  _portal_points_api)
# churn: the chapter's report, and HQ's side over chapter data (guarded for HQ roles)
BLUEPRINTS += (_hq_churn,)
API_BLUEPRINTS += (_churn_api, _hq_churn_api)

# complaints: chapter pages, the member's portal pages, HQ's figures and hotline (HQ roles)
_chapter.register_blueprint(_complaints)
_portal.register_blueprint(_portal_complaints)
BLUEPRINTS += (_hq_complaints,)
API_BLUEPRINTS += (_complaints_api, _portal_complaints_api, _hq_complaints_api)

# events: chapter pages, the member's portal pages, HQ's templates and report (HQ roles)
_chapter.register_blueprint(_events)
_portal.register_blueprint(_portal_events)
BLUEPRINTS += (_hq_events,)
API_BLUEPRINTS += (_events_api, _portal_events_api, _hq_events_api)

# care list (issue 7): chapter pages, portal notifications, HQ completion and rules (HQ roles)
_chapter.register_blueprint(_care)
_portal.register_blueprint(_portal_notifications)
BLUEPRINTS += (_hq_care,)
API_BLUEPRINTS += (_care_api,)

#: which chapter a user of these roles works in (read by the kernel's request scope)
SCOPE_RESOLVERS = {"member": portal_scope}
#: demo data loaders, run by ``flask demo load`` after the organisation's
DEMO_LOADERS: tuple = (_load_demo, _load_points_demo)
DEMO_LOADERS += (_load_complaints_demo,)
DEMO_LOADERS += (_load_events_demo,)
#: jobs ``flask jobs run NAME`` can start
JOBS: dict = {}
JOBS.update(_COMPLAINTS_JOBS)
JOBS.update(_EVENTS_JOBS)
DEMO_LOADERS += (_load_care_demo,)
JOBS.update(_CARE_JOBS)
JOBS.update(_CHURN_JOBS)
JOBS.update(_OWNERS_JOBS)
