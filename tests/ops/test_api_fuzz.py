"""API fuzzing with schemathesis, for every role: no 500, answers keep to their own
schema, and nothing of another chapter leaks.

Each role gets one hypothesis run in which every example calls every operation of the
OpenAPI document once (generated path, query and body), authenticated with a bearer token
of that role. Chapter B's rows carry a marker that must never appear in an answer to a
user of chapter A (or to a member of chapter A). ``FUZZ_EXAMPLES`` sets how
many rounds over the whole API each role gets (1 in the suite; `FUZZ_EXAMPLES=20` for a
longer drill).
"""

from __future__ import annotations

import contextvars
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clubplatform.auth import service as auth
from tests.factories import make_chapter, make_member, make_owner, make_user

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "1"))
MARKER = "ZZLEAKB"  # in chapter B's names: never in an answer to chapter A's users
ROLES = ("hq_admin", "hq_analyst", "chapter_manager", "chapter_staff", "member", "partner")


def _user_for(role: str, a):
    if role == "member":
        from tests.chapter.portal.factories import make_portal_member

        return make_portal_member(a).user
    if role == "partner":
        from tests.hq.perks.factories import make_partner, make_partner_user

        return make_partner_user(make_partner())
    return make_user(role, chapter=a if role.startswith("chapter") else None)


@pytest.fixture
def world(db):
    a, b = make_chapter(), make_chapter()  # chapter names are org data: visible by design
    make_member(a)
    make_member(b, make_owner(b, name=f"{MARKER}车主"))
    return {"a": a, "b": b}


@pytest.mark.parametrize("role", ROLES)
def test_fuzzing_the_api_as_every_role_finds_no_500_no_schema_break_no_leak(
        app, db, world, role):
    user = _user_for(role, world["a"])
    _, plain = auth.create_token(user, "fuzz", days=1)
    db.session.commit()
    headers = {"Authorization": f"Bearer {plain}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) > 50
    strategies = [op.as_strategy() for op in operations]
    sees_all = role in ("hq_admin", "hq_analyst")
    problems: list[str] = []
    answered: dict[int, int] = {}

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def round_over_the_api(data):
        for op, strategy in zip(operations, strategies, strict=True):
            case = data.draw(strategy, label=op.label)
            case.headers = {**(case.headers or {}), **headers}  # this role's token, always
            # its own context, like the suite's IsolatedClient: not the test's app context
            response = contextvars.Context().run(case.call)
            try:
                case.validate_response(response, checks=[not_a_server_error,
                                                         response_schema_conformance])
            except Exception as exc:  # schemathesis raises a group of check failures
                problems.append(f"{op.label}: {str(exc).splitlines()[0][:300]}")
            answered[response.status_code] = answered.get(response.status_code, 0) + 1
            body = response.content.decode("utf-8", "replace")
            if not sees_all and MARKER in body:
                problems.append(f"{op.label}: chapter B's data shown to {role}")
            db.session.rollback()

    round_over_the_api()

    assert not problems, "\n".join(sorted(set(problems))[:40])
    served = sum(n for status, n in answered.items() if status < 300)
    assert served >= 2 * EXAMPLES, f"the token of {role} opened almost nothing: {answered}"
    print(f"{role}: {sum(answered.values())} calls, by status {sorted(answered.items())}")
