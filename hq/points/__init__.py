"""Points: rules, ledger, tiers, partners and perks, settlement."""
