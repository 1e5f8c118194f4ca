"""What HQ owns: the central member database, points, rules, tiers, settlement, partners.

``BLUEPRINTS`` and ``API_BLUEPRINTS`` are registered by the app factory. HQ pages are
children of the ``hq`` blueprint, whose guard admits only HQ roles.
"""

from hq.console.views import bp as _hq
from hq.members.api import blp as _members_api
from hq.members.views import bp as _members
from hq.perks.api import blp as _perks_api
from hq.perks.api import partner_blp as _partner_api
from hq.perks.api import portal_blp as _portal_perks_api
from hq.perks.demo import load as _load_perks_demo
from hq.perks.partner_views import bp as _partner
from hq.perks.views import bp as _perks
from hq.points import cli as _points_cli  # noqa: F401  (``flask points …`` on the blueprint)
from hq.points import earning as _earning  # noqa: F401  (joining earns the join bonus)
from hq.points.api import blp as _point_rules_api
from hq.points.demo import load as _load_points_demo
from hq.points.jobs import JOBS as _POINTS_JOBS
from hq.points.views import bp as _points
from hq.settlement.api import blp as _settlement_api
from hq.settlement.api import report_blp as _points_report_api
from hq.settlement.jobs import RUNNABLE as _SETTLEMENT_JOBS
from hq.settlement.views import bp as _settlement

_hq.register_blueprint(_members)
_hq.register_blueprint(_perks)
_hq.register_blueprint(_points)
_hq.register_blueprint(_settlement)

BLUEPRINTS = (_hq, _partner)
API_BLUEPRINTS = (_members_api, _point_rules_api, _settlement_api, _points_report_api,
                  _perks_api, _portal_perks_api, _partner_api)
#: demo data loaders, run by ``flask demo load`` after the organisation's (before chapters')
DEMO_LOADERS: tuple = (_load_points_demo, _load_perks_demo)
#: jobs ``flask jobs run NAME`` can start
JOBS: dict = {**_POINTS_JOBS, **_SETTLEMENT_JOBS}
#: where a user of these roles lands after logging in (read by the kernel's home routing)
LANDING_ENDPOINTS = {"partner": "partner.home"}
