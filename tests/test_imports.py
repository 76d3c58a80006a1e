"""No module imports a module that imports it back, type-only and function-level imports included."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "wacr_async"


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every package module ``name`` imports anywhere in its source ("" is the package)."""
    is_package = path.name == "__init__.py"
    here = name.split(".") if name else []
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [
                alias.name.removeprefix("wacr_async").lstrip(".")
                for alias in node.names
                if alias.name.split(".")[0] == "wacr_async"
            ]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here if is_package else here[:-1]
                base = base[: len(base) - (node.level - 1)]
            elif (node.module or "").split(".")[0] == "wacr_async":
                base = []
            else:
                continue
            module = (node.module or "").removeprefix("wacr_async").lstrip(".")
            prefix = ".".join([*base, *([module] if module and node.level else [])])
            if not node.level:
                prefix = module
            for alias in node.names:
                candidate = f"{prefix}.{alias.name}".lstrip(".")
                targets.append(candidate if candidate in modules else prefix)
        found.update(t for t in targets if t in modules and t != name)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(frozenset(group))

    for node in graph:
        if node not in index:
            visit(node)
    return groups


def test_no_module_imports_one_that_imports_it_back() -> None:
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    cycles = [sorted(group) for group in _cycles(graph)]
    assert cycles == []


def test_the_client_is_imported_by_no_service() -> None:
    modules = _modules()
    importers = sorted(
        name for name, path in modules.items() if "_client" in _imports(name, path, modules)
    )
    assert all(
        not name.startswith(("resources", "_send_run", "_specs", "batch")) for name in importers
    )
