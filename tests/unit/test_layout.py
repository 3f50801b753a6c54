"""The package's layout rules: the library never imports the CLI; every module has a docstring."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent.parent / "bssim"


def _modules():
    return [p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_library_module_imports_the_cli():
    offenders = []
    for path in _modules():
        rel = path.relative_to(PACKAGE.parent)
        if rel.parts[1] == "cli" or rel.name == "__main__.py":
            continue
        if any(n == "bssim.cli" or n.startswith("bssim.cli.") for n in _imports(path)):
            offenders.append(str(rel))
    assert not offenders, f"library modules import the CLI: {offenders}"


def test_every_module_says_what_it_holds():
    missing = [str(p.relative_to(PACKAGE.parent)) for p in _modules()
               if p.stat().st_size > 0 and ast.get_docstring(ast.parse(p.read_text())) is None]
    assert not missing, f"modules without a docstring: {missing}"
