"""Every model of the chapter wing, imported so that the metadata is complete."""

from chapter.care.models import (  # noqa: F401  (issue 7)
    CareRule,
    CareRun,
    CareTask,
    ChapterCareRule,
    ServiceFeedback,
)
from chapter.churn.models import ChurnSetting, ChurnSnapshot  # noqa: F401
from chapter.complaints.models import Complaint, ComplaintContact, ComplaintSettings  # noqa: F401
from chapter.events.models import (  # noqa: F401
    Event,
    EventFeedback,
    EventInvitation,
    EventRegistration,
    EventSeries,
    EventTemplate,
)
from chapter.owners.models import Owner, ServiceVisit, Vehicle  # noqa: F401
from chapter.recruitment.models import Application  # noqa: F401
from chapter.referrals.models import Lead, LeadNote  # noqa: F401
from clubplatform.messaging.models import OutboxMessage  # noqa: F401  (kernel outbox, issue 7)
