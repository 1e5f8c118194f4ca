"""What HQ owns: the central member database, points, rules, tiers, settlement, partners.

``BLUEPRINTS`` and ``API_BLUEPRINTS`` are registered by the app factory. HQ pages are
children of the ``hq`` blueprint, whose guard admits only HQ roles.
"""

from hq.console.views import bp as _hq
from hq.members.api import blp as _members_api
from hq.members.views import bp as _members

_hq.register_blueprint(_members)

BLUEPRINTS = (_hq,)
API_BLUEPRINTS = (_members_api,)
