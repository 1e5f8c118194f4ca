"""Points at the chapter: members' balances and history, awards, adjusts, dealer
redemptions, the chapter's own campaigns, and service visits earning automatically."""
