"""House rules that keep the layers apart: core/ is a plain library (no Qt, app or training imports;
no print or sys.exit), training/ never imports the GUI, no two modules import each other (directly or
round a loop), the README's Layout names every package, and the migrations build exactly the schema."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from photosift.core.catalog.database import open_engine
from photosift.core.catalog.schema import is_full_text_table, metadata

REPO = Path(__file__).resolve().parents[1]
PACKAGE_FOLDERS = ("app", "core", "training", "resources")
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
        # The full-text index is an FTS5 virtual table that SQLAlchemy cannot describe (core.catalog.schema)
        opts = {"include_name": lambda name, kind, _parent: kind != "table" or not is_full_text_table(name)}
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts), metadata)
    engine.dispose()
    assert diff == []


def our_modules() -> dict[str, Path]:
    """Every module of the photosift package by its dotted name (a package by its __init__.py)."""
    found = {}
    for folder in PACKAGE_FOLDERS:
        for path in (REPO / folder).rglob("*.py"):
            parts = path.relative_to(REPO).with_suffix("").parts
            found[".".join(("photosift", *(parts[:-1] if parts[-1] == "__init__" else parts)))] = path
    return found


def _is_type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imported_modules(path: Path, known: dict[str, Path]) -> set[str]:
    """Our modules that `path` imports, at the top or inside a function: an import deferred for speed is
    still a dependency. Imports under `if TYPE_CHECKING:` only name types and are left out."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if _is_type_checking_block(child):
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names if alias.name in known)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                for alias in child.names:
                    submodule = f"{child.module}.{alias.name}"
                    if submodule in known:
                        found.add(submodule)
                    elif child.module in known:
                        found.add(child.module)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for target in edges:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        cycles.append(sorted(component))
    return cycles


def test_import_cycles_are_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert import_cycles(graph) == [["a", "b", "c"]]


def test_no_import_cycles_between_our_modules() -> None:
    known = our_modules()
    graph = {name: imported_modules(path, known) - {name} for name, path in known.items()}
    assert import_cycles(graph) == []


def test_the_readme_layout_names_every_package_folder() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("## Layout") :]
    layout = layout[: layout.find("\n## ", 1)] if "\n## " in layout[1:] else layout
    folders = sorted(
        path.parent.relative_to(REPO).as_posix()
        for folder in PACKAGE_FOLDERS
        for path in (REPO / folder).rglob("__init__.py")
    )
    assert [folder for folder in folders if f"`{folder}/`" not in layout] == []


def gui_modules() -> dict[str, ast.Module]:
    return {
        str(path.relative_to(REPO)): ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted((REPO / "app").rglob("*.py"))
    }


def test_only_the_window_and_its_parts_know_the_main_window() -> None:
    """Operations take a parent widget and the app state, never the window as a service locator (issue 14):
    besides the window itself, only its parts (connected to its slots) and the entry that creates it import
    it; the menu bar takes the window as a `QMainWindow`, its parts and the slots it connects to."""
    knowing = {
        name
        for name, tree in gui_modules().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "photosift.app.gui.main_window"
    }
    assert knowing <= {"app/gui/window_parts.py", "app/gui/app.py"}


def test_only_the_app_state_switches_the_library() -> None:
    """`AppState` is the one place a model switch happens: nothing else replaces the runner's library."""
    switching = {
        name
        for name, tree in gui_modules().items()
        for node in ast.walk(tree)
        if isinstance(node, (ast.Assign, ast.AnnAssign))
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        for assigned in (target.elts if isinstance(target, ast.Tuple) else [target])
        if isinstance(assigned, ast.Attribute) and assigned.attr == "library" and ast.unparse(assigned.value) != "self"
    }
    assert switching == {"app/gui/state.py"}


def test_nothing_outside_core_reaches_into_the_catalog() -> None:
    """The front ends and the trainer ask the library (or one of its services), never `library.catalog`
    (issue 14): a catalog query used from outside gets a name on `Library` first."""
    reaching = sorted(
        f"{path.relative_to(REPO)}:{node.lineno}"
        for folder in ("app", "training")
        for path in (REPO / folder).rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr == "catalog"
    )
    assert reaching == []


def assigned_attributes(tree: ast.Module, owner: str) -> list[str]:
    """`owner.attr:line` for every attribute of the name `owner` that the module sets (`=`, `: T =`, `+=`,
    unpacking, `setattr(owner, ...)`)."""
    found, targets = [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            targets.extend(node.targets)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets.append(node.target)
        elif isinstance(node, ast.Call) and ast.unparse(node.func) == "setattr" and ast.unparse(node.args[0]) == owner:
            found.append(f"{owner}.(setattr):{node.lineno}")
    while targets:
        target = targets.pop()
        if isinstance(target, (ast.Tuple, ast.List)):
            targets.extend(target.elts)
        elif isinstance(target, ast.Starred):
            targets.append(target.value)
        elif isinstance(target, ast.Attribute) and ast.unparse(target.value) == owner:
            found.append(f"{owner}.{target.attr}:{target.lineno}")
    return sorted(found)


def test_assigned_attributes_are_found() -> None:
    code = "window.a = 1\nwindow.b: int = 2\nwindow.c += 3\nx, (window.d, *window.e) = f()\nself.f = 4\n"
    found = assigned_attributes(ast.parse(code + "setattr(window, 'g', 5)\n"), "window")
    assert found == ["window.(setattr):6", "window.a:1", "window.b:2", "window.c:3", "window.d:4", "window.e:4"]


def test_only_the_main_window_sets_its_attributes() -> None:
    """No module gives the window attributes from outside (issue 14): its second build step returns its parts
    (`window_parts.WindowParts`), which the window keeps, and the menus take what they connect to."""
    setting = {
        name: found
        for name, tree in gui_modules().items()
        if name != "app/gui/main_window.py"
        if (found := assigned_attributes(tree, "window"))
    }
    assert setting == {}
