"""Random networks mixing issue 12's operations with the MLP's (tests/netgen_mixed.py)
against PyTorch autograd in float64 — every node's value and every node's gradient within
1e-9 relative — and, for the all-rational ones, against exact Fractions: the engine's
exact path gives exactly the values and gradients of an independent dual-number
evaluator (tests/oracle.py), and prints their half-up rounding.

400 networks against torch (200 with float operations, 200 all-rational) and 200 exact."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction

import numpy as np
import pytest
from netgen_mixed import LAYERS, mixed_network
from oracle import values_and_gradients
from test_engine_oracles import as2d, half_up

from exgen.define.load import to_array
from exgen.engine.equations import parse_equation
from exgen.engine.graph import compile_graph
from exgen.engine.rounding import Rounding, shown_array
from exgen.engine.solve import solve

CHUNK = 25
NETWORKS = 200  # of each kind
CHUNKS = range(0, NETWORKS, CHUNK)
RTOL, ATOL = 1e-9, 1e-12


def compiled(seed: int, rational: bool):
    texts, given, loss, params, used = mixed_network(seed, rational)
    equations = [parse_equation(t) for t in texts]
    arrays = {k: to_array(v, k) for k, v in given.items()}
    return equations, given, compile_graph(equations, arrays, loss, params), arrays, used


def test_the_generator_makes_valid_networks_that_use_every_layer():
    """Every drawn network compiles (shapes fit: kernels, windows, operands), the exact
    ones are exact, and across the seeds every layer, both strides and both paddings
    appear."""
    seen: Counter = Counter()
    texts = []
    for seed in range(NETWORKS):
        for rational in (True, False):
            equations, _, graph, _, used = compiled(seed, rational)
            assert graph.exact or not rational, [e.source for e in equations]
            seen.update(used)
            texts += [e.source for e in equations]
    assert set(seen) == {layer.name for layer in LAYERS}, seen
    joined = "\n".join(texts)
    for keyword in ("stride=1", "stride=2", "padding=0", "padding=1", "axis=0", "axis=1"):
        assert keyword in joined, keyword
    assert "log(1 - p)" in joined  # the binary cross-entropy


def _close(ours, theirs, what: str) -> None:
    np.testing.assert_allclose(
        np.array(ours, dtype=float).reshape(np.shape(theirs)),
        theirs,
        rtol=RTOL,
        atol=ATOL,
        err_msg=what,
    )


@pytest.mark.slow
@pytest.mark.parametrize("rational", [False, True], ids=["float", "rational"])
@pytest.mark.parametrize("first", CHUNKS)
def test_against_torch_autograd(first, rational):
    torch = pytest.importorskip("torch")
    from torch_oracle import torch_values_and_gradients

    for seed in range(first, first + CHUNK):
        equations, given, graph, arrays, _ = compiled(seed, rational)
        trace = solve(graph, arrays, Rounding(2, carry=False))
        values, grads = torch_values_and_gradients(torch, equations, given, "L")
        where = f"seed {seed}: " + "; ".join(e.source for e in equations)
        for name in graph.nodes:
            if name not in values:  # an unnamed sub-expression: no node of torch's
                continue
            _close(trace.values[name], values[name], f"value of {name}, {where}")
            if name in grads:
                assert name in trace.grads, f"no gradient of {name}, {where}"
                _close(trace.grads[name], grads[name], f"gradient of {name}, {where}")
            else:  # the loss does not depend on it
                assert name not in trace.grads or not np.any(trace.grads[name]), where
        assert set(grads) >= {n for n in given if n in trace.grads and np.any(trace.grads[n])}


@pytest.mark.slow
@pytest.mark.parametrize("first", CHUNKS)
def test_exact_networks_match_fractions(first):
    for seed in range(first, first + CHUNK):
        equations, given, graph, arrays, _ = compiled(seed, rational=True)
        trace = solve(graph, arrays, Rounding(2, carry=False))
        assert trace.exact
        values, grads = values_and_gradients(equations, given, "L")
        where = f"seed {seed}: " + "; ".join(e.source for e in equations)
        for eq in equations:
            assert (trace.values[eq.target] == as2d(values[eq.target])).all(), where
            expected = [[half_up(Fraction(v), 2) for v in row] for row in values[eq.target]]
            assert shown_array(trace.values[eq.target], 2).tolist() == expected, where
        for name in given:
            if name not in trace.grads:  # off every path to the loss
                assert all(g == 0 for row in grads[name] for g in row), (name, where)
                continue
            assert (trace.grads[name] == as2d(grads[name])).all(), (name, where)
            expected = [[half_up(Fraction(v), 3) for v in row] for row in grads[name]]
            assert shown_array(trace.grads[name], 3).tolist() == expected, (name, where)
