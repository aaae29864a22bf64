"""The package's shape: stages as subpackages, imports pointing down the pipeline only.

engine (numbers, graph, ops, solve) < typeset (formula trees, notation, math HTML)
< asks < notebooks (a sheet's Jupyter notebooks) < define (reading a definition, which asks the asks for their options)
< render < build < grading (students' answers against their keys) < lms (quizzes for a
learning platform, its responses read back) < check < serve (a live preview) < cli. ``errors`` is the floor every stage may use,
and so is ``language`` (the gettext of the sheet's language; an op marks its notes with N_).
Imports under ``if TYPE_CHECKING:`` are for annotations only and are not counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "exgen"
STAGES = [
    "errors",
    "engine",
    "typeset",
    "asks",
    "notebooks",
    "define",
    "render",
    "build",
    "grading",
    "lms",
    "check",
    "serve",
    "cli",
]
# Modules that are pure vocabulary, usable from a lower stage: (module, why).
VOCABULARY = {
    "exgen.typeset.formula": "formula-tree node types: data only, imports nothing of exgen",
    "exgen.typeset.terms": "semantic term-tree node types and spellings: data only, imports "
    "nothing of exgen; the operations say in them how they are written",
}
TOP_LEVEL = {
    "__init__": "errors",
    "__main__": "cli",
    "errors": "errors",
    "language": "errors",
    "cli": "cli",
}


def stage_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "errors"  # the package itself: __version__
    if parts[1] in TOP_LEVEL:
        return TOP_LEVEL[parts[1]]
    return parts[1]


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(rel.parts)
        yield name.removesuffix(".__init__"), path


def runtime_imports(path: Path, module: str) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text())
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for n in ast.walk(node)}
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "exgen":
                found += [
                    (f"exgen.{a.name}", node.lineno) for a in node.names if a.name != "__version__"
                ]
            elif node.module.startswith("exgen."):
                found.append((node.module, node.lineno))
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}:{node.lineno}: use absolute imports (exgen.stage.module)")
        elif isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names if a.name.startswith("exgen")]
    return found


def test_every_module_is_in_a_known_stage():
    for module, path in modules():
        assert stage_of(module) in STAGES, f"{path}: not in a stage ({', '.join(STAGES)})"


@pytest.mark.parametrize("module,path", list(modules()), ids=lambda x: str(x))
def test_imports_point_down_the_pipeline(module, path):
    mine = STAGES.index(stage_of(module))
    for target, line in runtime_imports(path, module):
        if target in VOCABULARY:
            continue
        theirs = STAGES.index(stage_of(target))
        assert theirs <= mine, (
            f"{path}:{line}: {module} ({stage_of(module)}) imports {target} "
            f"({stage_of(target)}), a later stage"
        )


def test_vocabulary_is_pure_data():
    for module in VOCABULARY:
        path = PACKAGE.parent / (module.replace(".", "/") + ".py")
        assert not runtime_imports(path, module), f"{path}: vocabulary imports exgen"


def test_no_module_shadows_the_standard_library():
    import sys

    for module, path in modules():
        leaf = module.rsplit(".", 1)[-1]
        assert leaf not in sys.stdlib_module_names or leaf in ("__init__",), (
            f"{path}: named like the standard library's {leaf}"
        )


def test_modules_stay_small():
    for _module, path in modules():
        lines = len(path.read_text().splitlines())
        assert lines <= 450, f"{path}: {lines} lines; split it by what it does"
