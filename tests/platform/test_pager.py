"""Long lists are paged, and the pager keeps the filters."""

from __future__ import annotations

from tests.factories import make_dealer, make_region, make_user


def test_dealer_list_pages_past_fifty_and_keeps_the_filter(client, db, login_as):
    region = make_region("BJ")
    for i in range(55):
        make_dealer(region, code=f"BJ-{i:03d}")
    login_as(make_user("hq_analyst"))
    first = client.get(f"/hq/org/dealers?region={region.id}")
    assert first.status_code == 200
    html = first.get_data(as_text=True)
    assert f"region={region.id}" in html and "page=2" in html
    second = client.get(f"/hq/org/dealers?region={region.id}&page=2")
    assert second.status_code == 200 and "BJ-054" in second.get_data(as_text=True)
