"""No package reaches into another package's private modules or names."""

from __future__ import annotations

import ast
from pathlib import Path

import spectrakit

ROOT = Path(spectrakit.__file__).resolve().parent


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _private_imports(path: Path) -> list[str]:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    here = _package(".".join(rel.parts))
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
            continue
        if not node.module.startswith("spectrakit.") or _package(node.module) in (here, "_lazy"):
            continue
        private_module = any(p.startswith("_") for p in node.module.split(".")[1:])
        private_names = [a.name for a in node.names if _private(a.name)]
        if private_module or private_names:
            found.append(f"{rel}:{node.lineno} from {node.module} import ...")
    return found


def test_no_cross_package_private_imports():
    offenders = [hit for path in sorted(ROOT.rglob("*.py")) for hit in _private_imports(path)]
    allowed = {"spectrakit/_deprecated", "spectrakit/__init__"}  # the public facade itself
    offenders = [o for o in offenders if o.split(":")[0] not in allowed]
    assert not offenders, "import the public name instead: " + "; ".join(offenders)


def _module_names() -> dict[str, Path]:
    mods = {}
    for path in ROOT.rglob("*.py"):
        name = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts)
        mods[name.removesuffix(".__init__")] = path
    return mods


def _imports(name: str, path: Path, mods: dict[str, Path]) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        else:
            continue
        out |= {t for t in targets if t in mods and t != name}
    return out


def test_no_import_cycles():
    mods = _module_names()
    graph = {name: _imports(name, path, mods) for name, path in mods.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles[:5])


def _reads_bundle_config(text: str) -> bool:
    """A module that names the bundle's config file and parses JSON reads it itself."""
    names = '"config.json"' in text or "'config.json'" in text
    return names and ("json.load" in text or "json.loads" in text)


def test_only_the_bundle_package_reads_the_bundle_config():
    readers = [
        str(path.relative_to(ROOT.parent))
        for path in sorted(ROOT.rglob("*.py"))
        if path.relative_to(ROOT).parts[0] != "bundle"
        and _reads_bundle_config(path.read_text(encoding="utf-8"))
    ]
    assert not readers, "read config.json outside spectrakit.bundle: " + ", ".join(readers)
