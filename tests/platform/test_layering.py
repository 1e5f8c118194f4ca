"""The dependency rule of ARCHITECTURE.md: kernel ← hq ← chapter, checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: modules of a package that may read across the wings
ALLOWED = {"platform/app.py"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _sources(folder: str):
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("folder, forbidden", [
    ("platform", {"hq", "chapter"}),
    ("hq", {"chapter"}),
])
def test_wing_imports_follow_the_dependency_rule(folder, forbidden):
    offenders = []
    for path in _sources(folder):
        rel = path.relative_to(ROOT).as_posix()
        if rel in ALLOWED or rel.startswith("platform/analytics/"):
            continue
        bad = _imports(path) & forbidden
        if bad:
            offenders.append(f"{rel} imports {sorted(bad)}")
    assert not offenders, offenders
