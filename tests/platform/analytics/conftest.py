"""A small nation whose figures were worked out by hand (see ``scenario``)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.factories import make_chapter, make_dealer, make_region
from tests.platform.analytics import factories as f

FEB, MAR, APR = date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30)


@pytest.fixture
def scenario(db):
    """Two regions, six dealers, three chapters, members, applications, owners, leads.

    R1 (BJ): D1 (chapter C1 since 2022), D2 (chapter C2 founded 2024-03-15, mid-month),
    D3 (full after-sales until 2024-03-10, then lost), D4 (full after-sales from
    2024-04-20). R2 (SH): D5 (chapter C3, closed on 2024-03-31), D6 (never).
    """
    r1, r2 = make_region("BJ"), make_region("SH")
    d1 = make_dealer(r1, code="D1")
    d2 = make_dealer(r1, code="D2")
    make_dealer(r1, code="D3", full_after_sales_until=date(2024, 3, 10))
    make_dealer(r1, code="D4", full_after_sales_since=date(2024, 4, 20))
    d5 = make_dealer(r2, code="D5", full_after_sales_since=date(2021, 1, 1))
    make_dealer(r2, code="D6", full_after_sales_since=None)
    c1 = make_chapter(d1, founded_on=date(2022, 1, 1))
    c2 = make_chapter(d2, founded_on=date(2024, 3, 15))
    c3 = make_chapter(d5, founded_on=date(2022, 1, 1))
    c3.closed_on = date(2024, 3, 31)
    db.session.commit()

    # members of C1
    m1 = f.member(c1, joined=date(2023, 6, 1))
    f.member(c1, (c1, date(2023, 6, 1), date(2024, 3, 1), "joined", "left"))  # left 1 March
    f.member(c1, (c1, date(2023, 1, 1), date(2024, 3, 31), "joined", "transfer_out"),
             (c2, date(2024, 3, 31), None, "transfer_in", None))  # moved on a month end
    f.member(c1, (c1, date(2023, 1, 1), date(2024, 2, 10), "joined", "suspended"),
             (c1, date(2024, 2, 10), None, "suspended", None, "suspended"))
    f.member(c1, joined=date(2024, 3, 5))
    f.member(c1, joined=date(2024, 4, 30))  # joined on a month end
    f.member(c2, joined=date(2024, 3, 20))
    f.member(c3, joined=date(2022, 2, 1))

    # owners
    o1 = f.owner(c1, since=date(2020, 5, 1))
    o2 = f.owner(c1, since=date(2024, 3, 15))
    f.owner(c1, since=date(2020, 5, 1), kind="company")  # companies never count
    f.owner(c1, since=None)  # never a customer (no delivery, no service)
    o5 = f.owner(c1, since=date(2024, 4, 30))
    c2o = f.owner(c2, since=date(2019, 1, 1))
    f.owner(c3, since=date(2020, 1, 1))

    # applications
    f.application(c1, o2, applied=date(2024, 2, 20), decided=date(2024, 3, 2))  # across Feb end
    f.application(c1, o1, applied=date(2024, 3, 31))  # pending since a month end
    f.application(c1, o1, applied=date(2024, 1, 5), decided=date(2024, 2, 29), status="rejected")
    f.application(c1, o5, applied=date(2024, 5, 1))  # after the range
    f.application(c2, c2o, applied=date(2024, 3, 16))

    # referral purchases
    f.lead(c1, referrer=m1, purchased=date(2024, 1, 15))
    f.lead(c1, referrer=m1, purchased=date(2024, 3, 31))
    f.lead(c1, referrer=None, purchased=date(2024, 3, 10))  # a walk-in: not a referral
    f.lead(c1, referrer=m1, purchased=date(2023, 12, 20))  # last year
    f.lead(c1, referrer=m1, purchased=None)  # still open
    return {"r1": r1, "r2": r2, "c1": c1, "c2": c2, "c3": c3}
