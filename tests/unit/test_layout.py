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


# The data flow, lowest layer first: a module may import its own layer or a lower one, never a
# higher one (the CLI sits on top). results (the run record and its folder) sits below the
# simulation that fills it, and studies and plots above both.
LAYERS = [
    {"atomic", "paths", "seeding", "files", "metrics", "tensorfile", "__init__"},
    {"scenario"},
    {"link", "cell", "content", "pipeline", "semantic", "nr", "network"},  # channel and content
    {"jscc", "baselines", "codecs", "schemes"},  # schemes and codecs
    {"options"},
    {"sched"},
    {"epoch"},
    {"results"},
    {"sim"},
    {"plot"},
    {"studies"},
    {"cli", "__main__"},
]


def _layer(unit: str) -> int:
    for i, layer in enumerate(LAYERS):
        if unit in layer:
            return i
    raise AssertionError(f"bssim.{unit} is in no layer of tests/unit/test_layout.py: add it to LAYERS")


def _unit(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def test_imports_point_down_the_data_flow():
    """Every bssim import, at the top of a file or inside a function, goes to the same or a lower layer."""
    upward = []
    for path in _modules():
        me = _unit(path)
        for name in _imports(path):
            if name.startswith("bssim.") and name.split(".")[1] != me:
                other = name.split(".")[1]
                if _layer(other) > _layer(me):
                    upward.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    assert not upward, "imports pointing up the data flow:\n" + "\n".join(sorted(upward))


def test_layers_are_known():
    units = {_unit(p) for p in _modules()}
    for u in units:
        _layer(u)


# In-function bssim imports kept on purpose: the training path (`bssim jscc train`) must run on a
# machine with torch, OpenCV, NumPy and pandas only (test_jscc.py::test_training_path_needs_no_heavy_dependencies),
# so these load the pydantic scenario, the semantic models and the codec baselines only when used.
LAZY_ON_PURPOSE = {"bssim/jscc/train.py", "bssim/jscc/data.py", "bssim/jscc/evaluate.py"}


def test_bssim_imports_sit_at_the_top_of_the_file():
    hidden = []
    for path in _modules():
        rel = str(path.relative_to(PACKAGE.parent))
        tree = ast.parse(path.read_text(), filename=rel)
        top = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in top:
                name = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                if name and name.startswith("bssim") and rel not in LAZY_ON_PURPOSE:
                    hidden.append(f"{rel}:{node.lineno} {name}")
    assert not hidden, "bssim imports inside functions (move them to the top):\n" + "\n".join(hidden)
