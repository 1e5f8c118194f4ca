"""Isolation sweep: for every route that takes an object, chapter B never reaches A's.

Walks ``app.url_map``. For each rule with arguments, a chapter A object is made by
the registry's factory; then chapter B's manager and staff request it (pages with
their session, the API with their token) with every method the route allows.
The answer must be 404 — or 403 when the route is closed to chapter roles
altogether (then the same role of chapter A gets 403 too, so the status reveals
nothing about the object). A new route is covered automatically; one whose
argument the registry does not know fails the sweep until it is added.
"""

from __future__ import annotations

import pytest

from clubplatform.auth import service as auth
from clubplatform.extensions import db
from tests.isolation.registry import NOT_TENANT_OBJECTS, OBJECTS

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _rules(app):
    return sorted(
        (r for r in app.url_map.iter_rules() if r.arguments),
        key=lambda r: (r.rule, r.endpoint),
    )


def test_every_route_with_an_argument_is_known_to_the_sweep(app):
    unknown = [
        f"{r.endpoint} {r.rule}" for r in _rules(app)
        if r.endpoint not in NOT_TENANT_OBJECTS and not set(r.arguments) <= set(OBJECTS)
    ]
    assert not unknown, (
        "routes with arguments the isolation sweep cannot fill; add a factory to "
        f"tests/isolation/registry.py OBJECTS or a reason to NOT_TENANT_OBJECTS: {unknown}"
    )


def _swept_rules(app):
    return [r for r in _rules(app) if r.endpoint not in NOT_TENANT_OBJECTS]


def _bearer(user) -> dict:
    _, plain = auth.create_token(user, "sweep", days=1)
    db.session.commit()
    return {"Authorization": f"Bearer {plain}"}


def _request(app, user, method, url, is_api):
    client = app.test_client()
    headers = {}
    if is_api:
        headers = _bearer(user)
    else:
        with client.session_transaction() as sess:
            sess["_user_id"] = user.get_id()
    kwargs = {"headers": headers}
    if method in ("POST", "PUT", "PATCH"):
        kwargs["json" if is_api else "data"] = {}
    return client.open(url, method=method, **kwargs)


def test_sweep_covers_routes(app):
    assert len(_swept_rules(app)) >= 10


@pytest.mark.parametrize("who", ["manager_b", "staff_b"])
def test_chapter_b_gets_404_for_every_chapter_a_object(app, two_chapters, who):
    from flask import url_for

    failures = []
    checked = 0
    made: dict = {}
    for rule in _swept_rules(app):
        for arg in rule.arguments:
            if arg not in made:
                made[arg] = OBJECTS[arg](two_chapters)
        values = {arg: made[arg] for arg in rule.arguments}
        with app.test_request_context():
            url = url_for(rule.endpoint, **values)
        is_api = url.startswith("/api/")
        for method in METHODS:
            if method not in rule.methods:
                continue
            resp = _request(app, two_chapters[who], method, url, is_api)
            checked += 1
            if resp.status_code == 404:
                continue
            if resp.status_code == 403:
                # the same role in chapter A gets 403 too: the route is closed to the
                # role, so the status says nothing about the object
                own = _request(app, two_chapters[who.replace("_b", "_a")], method, url, is_api)
                if own.status_code == 403:
                    continue
            failures.append(f"{method} {url} ({rule.endpoint}) -> {resp.status_code}")
            db.session.rollback()
    assert checked > 0
    assert not failures, "chapter B reached chapter A's objects:\n" + "\n".join(failures)


def test_chapter_a_reaches_its_own_objects_on_chapter_pages(app, two_chapters):
    """The sweep's factories make real objects: A's manager can open them."""
    from flask import url_for

    with app.test_request_context():
        url = url_for("chapter.staff.edit", user_id=OBJECTS["user_id"](two_chapters))
    resp = _request(app, two_chapters["manager_a"], "GET", url, False)
    assert resp.status_code == 200
