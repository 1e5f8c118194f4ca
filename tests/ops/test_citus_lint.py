"""Citus readiness: the schema follows the plan in clubplatform.citus (docs/scaling.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from clubplatform import citus
from clubplatform.extensions import db
from clubplatform.tenancy import TenantScoped, chapter_scope, unscoped

ROOT = Path(__file__).resolve().parents[2]


def test_every_table_has_a_place_in_the_citus_plan(app):
    unplaced = [name for name, p in citus.plan(db.metadata, db.Model).items() if p is None]

    assert not unplaced, unplaced


def test_the_schema_can_be_distributed_as_planned(app):
    assert citus.problems(db.metadata, db.Model) == []


def test_chapter_tables_are_distributed_by_chapter_and_the_ledger_by_member(app):
    where = citus.plan(db.metadata, db.Model)

    assert (where["owners"].kind, where["owners"].column) == ("chapter", "chapter_id")
    assert (where["point_entries"].kind, where["point_entries"].column) == ("member", "member_id")
    assert (where["members"].kind, where["members"].column) == ("member", "id")
    assert where["chapters"].kind == "reference"


# ----------------------------------------------------------- the lint itself, on bad tables
class _Base(DeclarativeBase):
    pass


sa.Table("chapters", _Base.metadata, sa.Column("id", sa.Integer, primary_key=True))


class _Parent(TenantScoped, _Base):
    __tablename__ = "lint_parent"
    __table_args__ = (sa.UniqueConstraint("chapter_id", "id"), sa.UniqueConstraint("code"))
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(10))


class _Child(TenantScoped, _Base):
    __tablename__ = "lint_child"
    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int] = mapped_column(sa.ForeignKey("lint_parent.id"))


class _Good(TenantScoped, _Base):
    __tablename__ = "lint_good"
    __table_args__ = (sa.ForeignKeyConstraint(["chapter_id", "parent_id"],
                                              ["lint_parent.chapter_id", "lint_parent.id"]),)
    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int]


sa.Table("lint_orphan", _Base.metadata, sa.Column("id", sa.Integer, primary_key=True))


def _lint() -> list[str]:
    return citus.problems(_Base.metadata, _Base)


def test_lint_refuses_a_unique_key_without_the_distribution_column():
    assert "lint_parent: unique key ['code'] lacks distribution column chapter_id" in _lint()


def test_lint_refuses_a_child_referring_to_its_parent_by_id_alone():
    assert ("lint_child: foreign key ['parent_id'] -> lint_parent does not carry the "
            "distribution column chapter_id") in _lint()


def test_lint_accepts_a_composite_key_to_the_parent():
    assert not [p for p in _lint() if p.startswith("lint_good")]


def test_lint_refuses_a_table_missing_from_the_plan():
    assert any(p.startswith("lint_orphan: not in the Citus plan") for p in _lint())


# ----------------------------------------------------------- no code moves a row of shard
#: writes of a chapter_id/member_id attribute that are not a distribution column
ALLOWED_WRITES = {
    ("hq/members/service.py", "member.chapter_id"):
        "a member's current chapter (members are distributed by their id); audited transfer",
    ("platform/auth/service.py", "user.chapter_id"): "users is a reference table",
    ("chapter/recruitment/service.py", "application.member_id"):
        "applications are distributed by chapter_id; member_id is set once on approval",
    ("chapter/owners/importer.py", "self.chapter_id"): "an importer object, not a row",
    ("platform/observability.py", "record.chapter_id"): "a log record",
}
DIST_NAMES = ("chapter_id", "member_id")


def _writes(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for t in targets:
            for el in (t.elts if isinstance(t, ast.Tuple) else [t]):
                if isinstance(el, ast.Attribute) and el.attr in DIST_NAMES:
                    yield node.lineno, ast.unparse(el)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr == "values" \
                and "insert" not in ast.unparse(node.func.value):  # inserts create rows
            for kw in node.keywords:
                if kw.arg in DIST_NAMES:
                    yield node.lineno, f".values({kw.arg}=...)"


def test_no_code_path_writes_a_distribution_column():
    found = []
    for wing in ("platform", "hq", "chapter"):
        for path in sorted((ROOT / wing).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            for line, what in _writes(path):
                if (rel, what) not in ALLOWED_WRITES and rel != "platform/tenancy.py":
                    found.append(f"{rel}:{line}: {what}")

    assert not found, ("a chapter_id/member_id is written after creation; if it is not a "
                       "distribution column add it to ALLOWED_WRITES with the reason: " +
                       "; ".join(found))


def test_moving_a_chapter_row_to_another_chapter_is_refused(app, db, two_chapters):
    from tests.factories import make_owner

    owner = make_owner(two_chapters["a"])
    with unscoped("test: try to move a row"):
        from chapter.owners.models import Owner

        row = db.session.get(Owner, owner.id)
        row.chapter_id = two_chapters["b"].id
        with pytest.raises(citus.DistributionColumnChanged):
            db.session.flush()
        db.session.rollback()
    with chapter_scope(two_chapters["a"].id):
        assert db.session.get(Owner, owner.id).chapter_id == two_chapters["a"].id
