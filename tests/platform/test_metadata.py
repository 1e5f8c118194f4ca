"""Every chapter-owned table carries chapter_id NOT NULL, indexed, leading its unique keys."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from clubplatform.extensions import db
from clubplatform.tenancy import HomeChapter, TenantScoped


def tenant_table_problems(table: sa.Table) -> list[str]:
    """What is wrong with a tenant-scoped table's keys (empty when all is well)."""
    problems = []
    col = table.c.get("chapter_id")
    if col is None:
        return [f"{table.name}: no chapter_id column"]
    if col.nullable:
        problems.append(f"{table.name}: chapter_id is nullable")
    leading = [ix for ix in table.indexes if list(ix.columns)[0].name == "chapter_id"]
    if not leading and not col.index:
        problems.append(f"{table.name}: no index leads with chapter_id")
    uniques = [c for c in table.constraints if isinstance(c, sa.UniqueConstraint)]
    uniques += [ix for ix in table.indexes if ix.unique]
    for u in uniques:
        cols = [c.name for c in u.columns]
        if cols and cols[0] != "chapter_id":
            problems.append(f"{table.name}: unique key {cols} does not start with chapter_id")
    return problems


def _tenant_tables() -> list[sa.Table]:
    return [
        m.class_.__table__ for m in db.Model.registry.mappers
        if issubclass(m.class_, TenantScoped)
    ]


def test_every_chapter_owned_table_is_keyed_by_chapter(app):
    problems = [p for t in _tenant_tables() for p in tenant_table_problems(t)]
    assert not problems, problems


def test_chapter_owned_tables_are_all_checked(app):
    # tables with a chapter_id column that are not TenantScoped must be deliberate
    tenant = {t.name for t in _tenant_tables()}
    follows_member = {
        m.class_.__table__.name for m in db.Model.registry.mappers
        if issubclass(m.class_, HomeChapter)
    }
    with_chapter = {t.name for t in db.metadata.sorted_tables if "chapter_id" in t.c}
    kernel_references = {"users", "audit_log", "job_runs"}  # refer to a chapter, HQ rows too
    # HQ's ledger follows the member (member_id) and keeps where each entry happened
    member_ledger = {"point_entries"}
    unexplained = with_chapter - tenant - follows_member - kernel_references - member_ledger
    assert not unexplained, unexplained


def test_records_that_follow_a_member_are_filtered_but_keyed_by_their_own_id(app):
    # the member row moves between chapters: its keys must not lead with chapter_id
    for m in db.Model.registry.mappers:
        if issubclass(m.class_, HomeChapter):
            table = m.class_.__table__
            assert [c.name for c in table.primary_key.columns] == ["id"]
            assert not table.c.chapter_id.nullable


class _Base(DeclarativeBase):
    pass


sa.Table("chapters", _Base.metadata, sa.Column("id", sa.Integer, primary_key=True))


class _Good(TenantScoped, _Base):
    __tablename__ = "meta_good"
    __table_args__ = (sa.UniqueConstraint("chapter_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(10))


class _BadUnique(TenantScoped, _Base):
    __tablename__ = "meta_bad"
    __table_args__ = (sa.UniqueConstraint("code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(10))


def test_checker_accepts_a_well_keyed_table():
    assert tenant_table_problems(_Good.__table__) == []


def test_checker_refuses_a_unique_key_without_chapter_first():
    assert tenant_table_problems(_BadUnique.__table__) == [
        "meta_bad: unique key ['code'] does not start with chapter_id"
    ]


def test_tenant_mixin_makes_chapter_id_not_null_and_indexed():
    col = _Good.__table__.c.chapter_id
    assert not col.nullable and col.index
