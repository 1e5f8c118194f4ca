"""Racing threads against PostgreSQL: what the concurrency tests share.

``wide_pool(size)`` gives every racer a connection of its own at once; ``race(app, n,
work)`` runs ``work`` in ``n`` threads that start together (a barrier), each in its own
app context (hence its own session and connection), commits each one's work and
returns what happened to each, in order:

- ``("ok", result)``: ``work`` returned ``result`` and the commit went through;
- ``("refused", exc)``: ``work`` raised one of the ``refused`` exceptions (rolled back);
- ``("error", repr(exc))``: anything else, which breaks the invariant under test.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import sqlalchemy as sa

from clubplatform.extensions import db
from clubplatform.tenancy import unscoped

#: seconds a racer waits for the others at the start, and for a thread to end
START_TIMEOUT = 30
JOIN_TIMEOUT = 90


@contextmanager
def wide_pool(size: int, *, lock_timeout_ms: int = 20000) -> Iterator[None]:
    """Swap the app's engine for one whose pool holds ``size`` connections."""
    original = db.engines[None]
    wide = sa.create_engine(original.url, pool_size=size, max_overflow=0, connect_args={
        "options": f"-c lock_timeout={lock_timeout_ms} -c timezone=UTC"})
    db.engines[None] = wide
    try:
        yield
    finally:
        db.session.remove()  # give the test's connection back before the pool goes
        db.engines[None] = original
        wide.dispose()


def race(app, n: int, work: Callable[..., Any], *,
         refused: tuple[type[BaseException], ...] = (), scope: str | None = "test race",
         wait: bool = True) -> list[tuple[str, Any]]:
    """Run ``work(i)`` in ``n`` threads at once; see the module's docstring.

    ``scope``: the reason of the ``unscoped`` block the work runs in (None: no block; the
    work opens its own scope). ``wait=False``: the work is called ``work(i, barrier)``
    and waits at the barrier itself (after loading what it needs).
    """
    barrier = threading.Barrier(n, timeout=START_TIMEOUT)
    outcomes: list = [None] * n

    def run(i: int) -> None:
        with app.app_context():
            try:
                with unscoped(scope) if scope else nullcontext():
                    if wait:
                        barrier.wait()
                        result = work(i)
                    else:
                        result = work(i, barrier)
                    db.session.commit()
                outcomes[i] = ("ok", result)
            except refused as exc:
                db.session.rollback()
                outcomes[i] = ("refused", exc)
            except Exception as exc:  # anything else breaks the invariant
                db.session.rollback()
                outcomes[i] = ("error", repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_TIMEOUT)
    return outcomes
