"""One home per operation: every registered operation defines every part, an
operation that leaves one out is refused, and no other table of op names exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from exgen.define.draw_rules import CONSTRAINTS
from exgen.engine.equations import FUNCTIONS
from exgen.engine.ops import REGISTRY, Op, missing_parts, register
from exgen.engine.ops.base import DATA_PARTS
from exgen.typeset.terms import Spelling

PACKAGE = Path(__file__).parents[1] / "exgen"


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_operation_is_complete(name):
    cls = REGISTRY[name]
    assert missing_parts(cls) == []
    assert isinstance(cls.spelling, Spelling)
    assert cls.architecture in ("activation", "data", "spatial", None)
    assert cls.gradient_uses in ("others", "input", "none")
    assert isinstance(cls.kinks, tuple)
    assert "{0}" in cls.torch
    assert isinstance(cls.arity, int) and cls.arity >= 1
    assert all(isinstance(v, tuple) for v in cls.keywords.values())
    # the constraint that rejects its ties is one a definition can require
    assert cls.ties is None or cls.ties in CONSTRAINTS


def test_an_operation_must_declare_its_arity_and_keywords():
    class Half(Op):
        name = "half"

    assert {"arity", "keywords"} <= set(missing_parts(Half))


def test_an_operation_missing_a_part_is_refused():
    class Gelu(Op):  # everything but the local derivative's formula and note
        name, rational, elementwise_local, in_equations = "gelu", False, True, True
        spelling = Spelling("func", "GELU", r"\operatorname{GELU}")
        torch, glyph, architecture, gradient_uses = "f({0})", "GELU", "activation", "input"
        kinks, saturates, local_mask, shape_rule = (), None, False, "same"
        numpy, numpy_grad = "gelu({0})", ("gelu_prime({0})",)
        arity, keywords, tensors = 1, {}, True

        def forward(self, x):
            return x

        def local(self, x, out):
            return x

        def example(self, args, ctx):
            return None

    assert missing_parts(Gelu) == ["local_formula", "local_note"]
    del Gelu.numpy_grad  # the notebooks' backward is a part like any other
    assert missing_parts(Gelu) == ["numpy_grad", "local_formula", "local_note"]
    with pytest.raises(
        TypeError, match="operation Gelu lacks: numpy_grad, local_formula, local_note"
    ):
        register(Gelu)
    assert "gelu" not in REGISTRY


def test_every_data_part_is_described():
    assert set(DATA_PARTS) >= {"spelling", "torch", "glyph", "kinks", "saturates"}


def test_the_equation_whitelist_comes_from_the_registry():
    assert set(FUNCTIONS) == {n for n, c in REGISTRY.items() if c.in_equations}
    assert {"leaky_relu", "softplus", "sqrt"} <= set(FUNCTIONS)


def test_no_other_module_keeps_a_table_of_operation_names():
    """An op-name table or if-chain elsewhere is how an operation gets a silent default."""
    pattern = re.compile(r"""["'](relu|sigmoid|tanh|softplus|leaky_relu)["']""")
    # layers.py: a default activation; texmath.py: TeX's own function names in prompts;
    # the step checker is an independent oracle: its own arithmetic per op, by design;
    # from_scratch.py: the from-scratch notebook is a ReLU network by design (the student
    # writes relu_forward and relu_backward), recognised as such
    allowed = {
        "notebooks/from_scratch.py",
        "engine/ops",
        "define/layers.py",
        "typeset/texmath.py",
        "check/step_functions.py",
        "check/intervals.py",
    }
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        if any(rel.startswith(a) for a in allowed):
            continue
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{rel}:{i}: {line.strip()}")
    assert offenders == []
