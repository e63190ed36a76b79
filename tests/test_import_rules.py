"""The one-way stack, enforced: workloads <- mappings <- simulator <- hw, with
`sparsim/` (the face) on top, and no import cycle between modules anywhere,
function-local imports included. An AST walk, so nothing is imported to check."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("workloads", "mappings", "simulator", "hw", "sparsim")
# package -> our packages it may import (hw/ imports the model it is checked against)
ALLOWED = {
    "workloads": set(),
    "mappings": {"workloads", "simulator"},
    "simulator": {"workloads", "mappings"},
    "hw": {"workloads", "mappings", "simulator"},
    "sparsim": {"workloads", "mappings", "simulator", "hw"},
}


def module_files(root: Path) -> dict[str, Path]:
    mods = {}
    for pkg in PACKAGES:
        for f in sorted((root / pkg).rglob("*.py")):
            if "sim_build" in f.parts:
                continue
            parts = f.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            mods[name] = f
    return mods


def imports_of(name: str, path: Path, mods: dict[str, Path]) -> list[tuple[str, int]]:
    """(module imported, line) for every import statement in the file, at any depth."""
    is_pkg = path.name == "__init__.py"
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from pkg import sub` imports the submodule when there is one
            targets = [f"{module}.{a.name}" for a in node.names if f"{module}.{a.name}" in mods]
            targets = targets or [module]
        else:
            continue
        for target in targets:
            if target.split(".")[0] in PACKAGES:
                found.append((target, node.lineno))
    return found


def import_graph(root: Path = ROOT) -> nx.DiGraph:
    mods = module_files(root)
    graph = nx.DiGraph()
    for name, path in mods.items():
        graph.add_node(name, path=path)
        for target, line in imports_of(name, path, mods):
            while target not in mods and "." in target:
                target = target.rsplit(".", 1)[0]
            if target != name:
                graph.add_edge(name, target, line=line)
    return graph


def rule_violations(graph: nx.DiGraph) -> list[str]:
    bad = []
    for src, dst, data in graph.edges(data=True):
        a, b = src.split(".")[0], dst.split(".")[0]
        if a != b and b not in ALLOWED[a]:
            bad.append(f"{graph.nodes[src]['path']}:{data['line']}: {src} imports {dst}")
    # mapping data types stay plain data: only the search may use the simulator
    for src, dst, data in graph.edges(data=True):
        if src in ("mappings.dataflow", "mappings.mapping") and dst.startswith("simulator"):
            bad.append(f"{graph.nodes[src]['path']}:{data['line']}: {src} imports {dst}")
    return bad


def module_cycles(graph: nx.DiGraph) -> list[list[str]]:
    """Import cycles, ignoring a submodule's edge to its own parent package
    (Python runs the parent's __init__ first; that is not a dependency cycle)."""
    g = graph.copy()
    g.remove_edges_from([(a, b) for a, b in graph.edges if a.startswith(b + ".")])
    return [sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1]


def test_the_stack_points_one_way():
    assert rule_violations(import_graph()) == []


def test_no_import_cycles():
    assert module_cycles(import_graph()) == []


def test_the_checker_catches_violations(tmp_path):
    """The rules fail on a deliberate violation: a workloads module importing the
    simulator, simulator importing hw, a core module importing the face, a cycle."""
    for pkg in PACKAGES:
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "__init__.py").write_text("")
    (tmp_path / "workloads" / "a.py").write_text("def f():\n    from simulator import b\n")
    (tmp_path / "simulator" / "b.py").write_text("import hw.c\n")
    (tmp_path / "hw" / "c.py").write_text("from sparsim.d import x\n")
    (tmp_path / "sparsim" / "d.py").write_text("x = 1\n")
    (tmp_path / "mappings" / "e.py").write_text("from mappings import f\n")
    (tmp_path / "mappings" / "f.py").write_text("def g():\n    from . import e\n")
    graph = import_graph(tmp_path)
    bad = "\n".join(rule_violations(graph))
    assert "workloads.a imports simulator.b" in bad
    assert "simulator.b imports hw.c" in bad
    assert "hw.c imports sparsim.d" in bad
    assert module_cycles(graph) == [["mappings.e", "mappings.f"]]


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_is_walked(package):
    assert any(n.split(".")[0] == package for n in import_graph().nodes)
