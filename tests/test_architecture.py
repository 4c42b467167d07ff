"""The layers of docs/ARCHITECTURE.md hold: imports only point down, no module circles, thin DAG files.

Imports inside functions count as much as those at the top of a module (grimp reads every import statement).
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("roadsafe", "ingest", "dashboards", "portal", "application")
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))
MAX_LINES = 800


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )


def test_layer_contract_is_kept():
    result = _lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "upward"),
    [
        ("roadsafe/_probe.py", "from ingest import landing"),  # core → ingest
        ("ingest/_probe.py", "def f():\n    from dashboards import editions\n"),  # inside a function
        ("dashboards/_probe.py", "import portal.auth"),  # reports → portal
        ("portal/_probe.py", "from application import cli"),  # portal → application
    ],
)
def test_layer_contract_fails_on_an_upward_import(tmp_path, module, upward):
    """The same contract on a copy of the tree with one upward import added is broken."""
    for name in PACKAGES:
        shutil.copytree(REPO / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / module).write_text(upward + "\n")
    result = _lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "BROKEN" in result.stdout and module.replace("/", ".").removesuffix(".py") in result.stdout


def _circles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected sets of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    members = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        members.append(member)
                        if member == node:
                            break
                    if len(members) > 1:
                        found.append(sorted(members))
    return found


def test_no_module_circles():
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False)
    # A package's __init__ re-exporting its own modules is not a circle of ideas; leave those out.
    for module in list(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if module.count(".") < imported.count(".") and imported.startswith(module + "."):
                graph.remove_import(importer=module, imported=imported)
    assert _circles(graph) == []


def test_dag_files_only_wire():
    """DAG files import Airflow and the application layer only, and nothing heavy at parse time."""
    heavy = {"duckdb", "dbt", "great_tables", "weasyprint", "polars", "pyarrow", "fastexcel", "altair"}
    for path in sorted((REPO / "dags").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            for name in names:
                top = name.split(".")[0]
                assert top not in heavy, f"{path.name} imports {name}"
                assert top not in {"roadsafe", "ingest", "dashboards", "portal"}, (
                    f"{path.name} imports {name}: DAG files call the application layer"
                )


def test_no_source_file_over_the_size_limit():
    """Tracked and new (not ignored) files of the working tree; a file deleted but not yet committed is gone."""
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    too_long = {
        name: n
        for name in tracked
        if not name.startswith("tests/")
        and (REPO / name).exists()
        and (n := len((REPO / name).read_text().splitlines())) > MAX_LINES
    }
    assert too_long == {}
