"""House rules that keep the layers apart: core/ is a plain library (no Qt, app or training imports;
no print or sys.exit), training/ never imports the GUI, and the migrations build exactly the schema."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from photosift.core.catalog.database import open_engine
from photosift.core.catalog.schema import metadata

REPO = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "core": {"PySide6", "photosift.app", "photosift.training"},
    "training": {"PySide6", "photosift.app"},
}


def import_root(module: str) -> str:
    """`PySide6` for `PySide6.QtCore`; our own layers by their second name (`photosift.app`)."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "photosift" else parts[0]


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(import_root(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(import_root(node.module))
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layers_do_not_import_upwards(package: str) -> None:
    offenders = {
        str(path.relative_to(REPO)): sorted(imported_roots(path) & FORBIDDEN[package])
        for path in (REPO / package).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_core_never_prints_or_exits() -> None:
    offenders = []
    for path in (REPO / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = ast.unparse(node.func)
                if name in ("print", "sys.exit", "exit", "quit"):
                    offenders.append(f"{path.relative_to(REPO)}:{node.lineno} {name}")
    assert offenders == []


def test_migrations_build_exactly_the_schema(tmp_path: Path) -> None:
    engine = open_engine(tmp_path / "catalog.sqlite3")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == []
