"""The Citus plan of the schema, checked against the metadata (docs/scaling.md explains it).

Every table falls in one class:

- **chapter** — distributed by ``chapter_id``: every :class:`~clubplatform.tenancy.TenantScoped`
  model (owners, vehicles, visits, events, care list, complaints …);
- **member** — distributed by the member id: ``members`` itself (by ``id``, its own key) and
  the central HQ records that follow a person (ledger, consents, identities, tiers,
  transfers, vouchers …: any non-chapter table with a ``member_id`` column);
- **reference** — small organisation and configuration tables, copied to every node;
- **local** — kept on the coordinator only (platform bookkeeping nobody joins to
  distributed tables at scale: job runs, audit log, snapshots, API tokens).

What the lint (:func:`problems`) checks, and why it can pass *today* with surrogate ``id``
primary keys: Citus needs the distribution column in the primary key and in every unique
constraint. Our primary keys are one surrogate column (``id``), unique by itself, so the
cut-over widens each of them mechanically to ``(distribution column, id)`` — that can never
create a duplicate. What cannot be fixed mechanically, and so is checked now, is:

1. a distributed table has its distribution column, ``NOT NULL``;
2. its primary key is that column, contains it, or is a single surrogate column (widened);
3. every *other* unique key contains the distribution column, except the few platform-wide
   uniqueness rules listed in :data:`IDENTITY_TABLE_MOVES` (they move to a small identity
   table keyed by the unique value at the cut-over);
4. every foreign key between two tables of the same distribution carries the distribution
   column on both sides (co-located joins; after widening, a key on ``id`` alone has no
   unique target); a key toward another distribution is only a member reference
   (``… → members.id``, dropped at the cut-over and kept by the application) or listed in
   :data:`FK_EXCEPTIONS` with its plan;
5. reference tables refer only to reference tables; local tables to local/reference ones;
6. no code path changes a distribution column: :func:`install_guards` refuses it for ORM
   objects at flush time, and the lint test scans the source for other writes.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import event, inspect
from sqlalchemy.orm import DeclarativeBase

CHAPTER, MEMBER, IDENTITY = "chapter", "member", "identity"
REFERENCE, LOCAL = "reference", "local"

#: organisation and configuration tables: few rows, read everywhere, copied to every node
REFERENCE_TABLES = frozenset({
    "regions", "dealers", "chapters",
    "users",  # staff, partner and member logins; at 100× see docs/scaling.md
    "point_rules", "partners", "perks", "partner_users", "event_templates", "churn_settings",
    "partner_statements",  # partners x months: small, settlement lines refer to it
    "care_rules", "dealer_after_sales_periods",
    # the person keys held in two chapters or more (tens of thousands): every shard's
    # churn matrix joins its owners to it locally
    "shared_person_keys",
})
#: platform bookkeeping kept on the coordinator (Citus local tables)
LOCAL_TABLES = frozenset({
    "api_tokens", "audit_log", "job_runs", "job_files",
    "analytics_months", "analytics_snapshots",
})
#: the platform identity table: one row per unique value (distributed by that value);
#: platform-wide uniqueness lives here, so the member tables need no global unique key
IDENTITY_TABLES = {"member_identities": "digest"}
#: member-centred tables whose distribution column is not ``member_id``
MEMBER_KEY = {"members": "id"}

#: platform-wide unique rules that move to the identity table at the cut-over:
#: (table, columns) -> why it must stay global
IDENTITY_TABLE_MOVES: dict[tuple[str, tuple[str, ...]], str] = {
    ("members", ("user_id",)): "one member row per login, across the nation",
    ("members", ("member_number",)): "member numbers are printed on cards: unique nationally",
    ("point_entries", ("idempotency_key",)):
        "ledger keys are global; at the cut-over the key becomes (member_id, "
        "idempotency_key) — every key already names its member",
    ("vouchers", ("code",)): "a partner checks a voucher by its code alone",
}

#: foreign keys that the cut-over rewrites: (table, columns, referred table) -> plan
FK_EXCEPTIONS: dict[tuple[str, tuple[str, ...], str], str] = {
    ("vouchers", ("entry_id",), "point_entries"):
        "becomes (member_id, entry_id) -> point_entries (member_id, id)",
    ("settlement_lines", ("entry_id",), "point_entries"):
        "settlement_lines gains member_id and the key becomes (member_id, entry_id)",
    ("settlement_lines", ("chapter_statement_id",), "chapter_statements"):
        "cross-distribution: dropped at the cut-over, kept by the settlement service",
    ("member_identities", ("member_id",), "members"):
        "identity -> member: dropped at the cut-over (the identity row is written first)",
}
#: distribution columns the cut-over adds (a table without one today): table -> column
PLANNED_COLUMNS = {"settlement_lines": "member_id"}


@dataclass(frozen=True)
class Placement:
    table: str
    kind: str
    column: str | None  # distribution column (chapter/member)


def _model_tables(base: type[DeclarativeBase]) -> dict[str, type]:
    return {m.class_.__table__.name: m.class_ for m in base.registry.mappers
            if hasattr(m.class_, "__table__")}


def placement(table: sa.Table, model: type | None) -> Placement | None:
    """Where ``table`` goes on Citus, or None when the plan does not say."""
    from clubplatform.tenancy import HomeChapter, TenantScoped

    if table.name in REFERENCE_TABLES:
        return Placement(table.name, REFERENCE, None)
    if table.name in LOCAL_TABLES:
        return Placement(table.name, LOCAL, None)
    if table.name in IDENTITY_TABLES:
        return Placement(table.name, IDENTITY, IDENTITY_TABLES[table.name])
    if model is not None and issubclass(model, TenantScoped):
        return Placement(table.name, CHAPTER, "chapter_id")
    if table.name in MEMBER_KEY or (model is not None and issubclass(model, HomeChapter)):
        return Placement(table.name, MEMBER, MEMBER_KEY.get(table.name, "id"))
    if "member_id" in table.c or table.name in PLANNED_COLUMNS:
        return Placement(table.name, MEMBER, "member_id")
    return None


def plan(metadata: sa.MetaData, base: type[DeclarativeBase]) -> dict[str, Placement | None]:
    models = _model_tables(base)
    return {t.name: placement(t, models.get(t.name)) for t in metadata.sorted_tables}


def _uniques(table: sa.Table) -> list[tuple[str, ...]]:
    keys = [tuple(c.name for c in u.columns) for u in table.constraints
            if isinstance(u, sa.UniqueConstraint)]
    keys += [tuple(c.name for c in ix.columns) for ix in table.indexes if ix.unique]
    return keys


def _dist_of(table: sa.Table, where: dict[str, Placement | None]) -> str | None:
    p = where.get(table.name)
    return p.column if p is not None else None


def problems(metadata: sa.MetaData, base: type[DeclarativeBase]) -> list[str]:
    """Everything that would stop the schema from being distributed as planned."""
    where = plan(metadata, base)
    out: list[str] = []
    used_identity, used_fk = set(), set()
    for table in metadata.sorted_tables:
        p = where[table.name]
        if p is None:
            out.append(f"{table.name}: not in the Citus plan (chapter_id/member_id, or add it to "
                       "REFERENCE_TABLES/LOCAL_TABLES in clubplatform.citus)")
            continue
        if p.kind in (CHAPTER, MEMBER, IDENTITY):
            out += _distributed_problems(table, p, where, used_identity, used_fk)
        else:
            for fk in table.foreign_key_constraints:
                target = where.get(fk.referred_table.name)
                allowed = {REFERENCE} if p.kind == REFERENCE else {REFERENCE, LOCAL}
                if target is None or target.kind not in allowed:
                    out.append(f"{table.name} ({p.kind}) refers to {fk.referred_table.name} "
                               f"({target.kind if target else '?'})")
    out += [f"stale IDENTITY_TABLE_MOVES entry {k}" for k in IDENTITY_TABLE_MOVES
            if k not in used_identity and k[0] in where]
    out += [f"stale FK_EXCEPTIONS entry {k}" for k in FK_EXCEPTIONS
            if k not in used_fk and k[0] in where]
    return out


def _distributed_problems(table, p, where, used_identity, used_fk) -> list[str]:
    out = []
    col = table.c.get(p.column)
    if col is None and PLANNED_COLUMNS.get(table.name) != p.column:
        return [f"{table.name}: no distribution column {p.column}"]
    if col is not None and col.nullable and not col.primary_key:
        out.append(f"{table.name}: distribution column {p.column} is nullable")
    pk = tuple(c.name for c in table.primary_key.columns)
    if p.column not in pk and len(pk) != 1:
        out.append(f"{table.name}: composite primary key {list(pk)} lacks {p.column}")
    for key in _uniques(table):
        if p.column in key:
            continue
        if (table.name, key) in IDENTITY_TABLE_MOVES:
            used_identity.add((table.name, key))
            continue
        out.append(f"{table.name}: unique key {list(key)} lacks distribution column {p.column}")
    for fk in table.foreign_key_constraints:
        parent = fk.referred_table
        cols = tuple(e.parent.name for e in fk.elements)
        target = where.get(parent.name)
        if (table.name, cols, parent.name) in FK_EXCEPTIONS:
            used_fk.add((table.name, cols, parent.name))
            continue
        if target is None or target.kind == REFERENCE:
            continue
        if target.kind == LOCAL:
            out.append(f"{table.name}: foreign key {list(cols)} to local table {parent.name}")
            continue
        pairs = {(e.parent.name, e.column.name) for e in fk.elements}
        if target.kind == p.kind and (p.column, target.column) in pairs:
            continue  # co-located: the distribution column on both sides
        if parent.name == "members" and target.kind != p.kind:
            continue  # a member reference from a chapter table: dropped, kept by the app
        out.append(f"{table.name}: foreign key {list(cols)} -> {parent.name} does not carry "
                   f"the distribution column {p.column}")
    return out


# ------------------------------------------------------------------ runtime guard
class DistributionColumnChanged(RuntimeError):
    """A row was asked to move to another shard: its distribution column changed."""


def install_guards(base: type[DeclarativeBase], metadata: sa.MetaData) -> None:
    """Refuse, at flush time, an ORM change of a distributed row's distribution column."""
    where = plan(metadata, base)
    guarded = {}
    for name, model in _model_tables(base).items():
        p = where.get(name)
        if p is not None and p.kind in (CHAPTER, MEMBER) and p.column in model.__table__.c:
            if p.column != "id":
                guarded[model] = p.column
    if getattr(install_guards, "_installed", None) == set(guarded):
        return
    install_guards._installed = set(guarded)  # type: ignore[attr-defined]
    _GUARDED.clear()
    _GUARDED.update(guarded)
    if not event.contains(sa.orm.Session, "before_flush", _refuse_moves):
        event.listen(sa.orm.Session, "before_flush", _refuse_moves)


_GUARDED: dict[type, str] = {}


def _refuse_moves(session, flush_context, instances) -> None:
    for obj in session.dirty:
        column = _GUARDED.get(type(obj))
        if column is None:
            continue
        hist = inspect(obj).attrs[column].history
        if hist.deleted and hist.added and hist.deleted[0] is not None \
                and hist.deleted[0] != hist.added[0]:
            raise DistributionColumnChanged(
                f"{type(obj).__name__}.{column} is the Citus distribution column: a row never "
                f"moves ({hist.deleted[0]} -> {hist.added[0]})")
