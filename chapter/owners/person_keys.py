"""Person keys held by owners of more than one chapter (``shared_person_keys``).

The same person can be an owner of several chapters (they service their car at two
dealers); owners are matched across chapters by mobile and by ID-number digest. The
triggers of revision 0013 keep the table on every write of ``owners``; :func:`repair`
rebuilds it from the owners in one set-based pass (nightly, and before the month-end
churn snapshots), for the one case the triggers cannot see: two transactions writing
the same new key into two chapters at the same moment.
"""

from __future__ import annotations

import sqlalchemy as sa

from chapter.owners.models import PERSON_KEYS, Owner, SharedPersonKey
from clubplatform.db import insert
from clubplatform.extensions import db


def held_by_several() -> sa.Select:
    """``(kind, key)`` of every person key two owners or more hold, from the owners.

    Owners are unique per chapter and key, so two holders are two chapters.
    """
    o = Owner.__table__
    return sa.union_all(*[
        sa.select(sa.literal(kind, sa.String).label("kind"), o.c[col].label("key"))
        .where(o.c[col].is_not(None)).group_by(o.c[col]).having(sa.func.count() > 1)
        for kind, col in PERSON_KEYS.items()])


def shared_keys(kind: str) -> sa.Select:
    """The shared keys of one kind (for an ``IN``)."""
    t = SharedPersonKey.__table__
    return sa.select(t.c.key).where(t.c.kind == kind)


def repair() -> dict[str, int]:
    """Make the table equal to the owners: add the missing keys, remove the stale ones.

    Returns how many were added and removed (both 0 when the triggers kept it). Call it
    with every chapter's owners in view (``unscoped``); Core statements, so nothing is
    filtered.
    """
    t = SharedPersonKey.__table__
    now = held_by_several().subquery("held")
    same = sa.and_(now.c.kind == t.c.kind, now.c.key == t.c.key)
    removed = db.session.execute(
        t.delete().where(~sa.exists(sa.select(1).select_from(now).where(same)))
        .returning(t.c.key)).all()
    missing = sa.select(now.c.kind, now.c.key).where(
        ~sa.exists(sa.select(1).select_from(t).where(same)))
    added = db.session.execute(
        insert(t).from_select(["kind", "key"], missing).on_conflict_do_nothing()
        .returning(t.c.key)).all()
    return {"added": len(added), "removed": len(removed)}
