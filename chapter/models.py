"""Every model of the chapter wing, imported so that the metadata is complete."""

from chapter.owners.models import Owner, ServiceVisit, Vehicle  # noqa: F401
from chapter.recruitment.models import Application  # noqa: F401
from chapter.referrals.models import Lead, LeadNote  # noqa: F401
