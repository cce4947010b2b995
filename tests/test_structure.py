"""The package's shape, checked: no import cycle anywhere in ``assistant/`` (imports inside
functions count: a cycle held together by late imports is still one), no module much longer
than a reader can hold without a reason written at its top, and ``import assistant`` stays
light (the heavy libraries load where they are used)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT

PACKAGE = ROOT / "assistant"
MAX_LINES = 600
REASON = "Why this module is long:"
"""The phrase a module over :data:`MAX_LINES` lines carries in its docstring, with the reason."""


def _modules() -> dict[str, tuple[Path, bool]]:
    """Dotted name -> (file, is a package's ``__init__``) for every module of the package."""
    found: dict[str, tuple[Path, bool]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


def import_graph() -> dict[str, set[str]]:
    """Which of the package's modules each one imports, at any depth of its code. ``from .
    import x`` where ``x`` is a module depends on ``x`` only: importing a submodule runs its
    package's ``__init__`` first anyway, and that is not a cycle anyone wrote."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, (path, is_package) in modules.items():
        package = name if is_package else name.rpartition(".")[0]
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                submodules = [f"{target}.{a.name}" for a in node.names
                              if f"{target}.{a.name}" in modules]
                candidates = (submodules if len(submodules) == len(node.names)
                              else [target, *submodules])
            elif isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            else:
                continue
            deps.update(c for c in candidates if c in modules and c != name)
        graph[name] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected parts of ``graph`` with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for dep in graph[node]:
            if dep not in index:
                visit(dep)
                low[node] = min(low[node], low[dep])
            elif dep in stack:
                low[node] = min(low[node], index[dep])
        if low[node] == index[node]:
            part = []
            while True:
                member = stack.pop()
                part.append(member)
                if member == node:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The check below means something: a cycle through three modules is reported."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_inside_the_package() -> None:
    graph = import_graph()
    assert len(graph) > 40 and graph["assistant.service"], "the walk found the package"
    assert cycles(graph) == []


def test_long_modules_say_why() -> None:
    too_long = []
    for name, (path, _) in _modules().items():
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        docstring = ast.get_docstring(ast.parse(text)) or ""
        if lines > MAX_LINES and REASON not in docstring:
            too_long.append(f"{name}: {lines} lines")
    assert too_long == [], f"split these, or say '{REASON} ...' in their docstring"


def test_importing_the_package_stays_light() -> None:
    """``import assistant`` (and the web and API modules, which the CLI imports to show its
    help) loads none of the heavy libraries: they load inside the functions that use them."""
    heavy = ("torch", "faiss", "gradio", "sentence_transformers", "pypdf", "fastapi", "onnxruntime",
             "transformers", "uvicorn", "numpy")
    code = ("import sys, assistant, assistant.web, assistant.cli, assistant.readers; "
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=ROOT)
    assert result.stdout.strip() == "[]"
