"""What the points programme does when something happens elsewhere in the chapter.

HQ's earning rules cannot listen to chapter signals themselves (HQ never imports the
chapter wing), so the chapter connects them here; ``chapter/__init__`` imports it.
"""

from __future__ import annotations

from chapter.owners import importer
from chapter.referrals import service as referrals
from clubplatform import dates
from hq.points import earning


def _on_referral_purchased(lead, *, member_id: int, lead_id: int, **_kwargs) -> None:
    """The referrer earns HQ's referral points, once per lead, by the rule of the purchase."""
    earning.earn_for_referral(member_id, lead_id, lead.chapter_id,
                              lead.purchased_on or dates.today())


referrals.referral_purchased.connect(_on_referral_purchased)


def _on_visits_imported(chapter_id: int, visit_ids: list[int]) -> None:
    """Imported service visits earn like visits recorded by hand (never twice)."""
    from chapter.points import service

    service.award_visits(chapter_id, visit_ids)


importer.after_visit_batch.append(_on_visits_imported)
