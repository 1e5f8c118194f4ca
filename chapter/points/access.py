"""Who may do what with a member's points at the chapter: one rule for pages and API.

Any chapter user sees a member's points and records a redemption at the dealer; only
the chapter's manager awards or adjusts points and runs the chapter's campaigns (the
chapter pays for them).
"""

from __future__ import annotations

from clubplatform.auth.models import CHAPTER_MANAGER, CHAPTER_ROLES
from clubplatform.security import roles_required

#: awards, adjustments, campaigns
manager_only = roles_required(CHAPTER_MANAGER)
#: the member's points page, dealer redemptions, the campaign list
chapter_users = roles_required(*CHAPTER_ROLES)
