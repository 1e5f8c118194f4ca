"""Every model of the HQ wing, imported so that the metadata is complete."""

from hq.members.models import (  # noqa: F401
    Member,
    MemberConsent,
    MemberIdentity,
    MemberStatusPeriod,
    Transfer,
)
from hq.points.models import (  # noqa: F401
    Campaign,
    ChapterStatement,
    Partner,
    PartnerStatement,
    PartnerUser,
    Perk,
    PointEntry,
    PointRule,
    SettlementLine,
    TierChange,
    Voucher,
)
