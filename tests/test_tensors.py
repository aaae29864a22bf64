"""Images C×H×W and batches N×C×H×W: several channels and filters F×C×kh×kw, a bias
per filter, pooling per map and flatten into a dense head. Whole networks are compiled
and solved by the engine and compared with PyTorch autograd (float64) and central
differences; exact networks with exact rationals; bad shapes get located messages."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from exgen.define.values import to_array
from exgen.engine.equations import parse_equation
from exgen.engine.graph import GraphError, compile_graph
from exgen.engine.rounding import Rounding
from exgen.engine.solve import solve
from exgen.errors import DefinitionError

ROOT = Path(__file__).parents[1]
RNG = np.random.default_rng(2026)

NET = [
    "z = conv2d(x, K, stride={s}, padding={p}) + b",
    "a = relu(z)",
    "q = {pool}(a, size=2, stride={t})",
    "f = flatten(q)",
    "y = W @ f + c",
    "L = 0.5 * sum((y - T)**2)",
]
PARAMS = ["K", "b", "W", "c"]


def _given(batch: int | None, c: int, f: int, size: int, s: int, p: int, t: int) -> dict:
    lead = (batch,) if batch else ()
    x = RNG.normal(size=(*lead, c, size, size))
    k = RNG.normal(size=(f, c, 3, 3))
    oh = (size + 2 * p - 3) // s + 1
    ph = (oh - 2) // t + 1
    n = f * ph * ph
    return {
        "x": x,
        "K": k,
        "b": RNG.normal(size=f),
        "W": RNG.normal(size=(2, n)),
        "c": RNG.normal(size=2),
        "T": RNG.normal(size=(2, batch) if batch else 2),
    }


def _graph(given: dict, s: int, p: int, pool: str, t: int):
    lines = [line.format(s=s, p=p, pool=pool, t=t) for line in NET]
    return compile_graph([parse_equation(x) for x in lines], given, "L", PARAMS)


def _torch_reference(given: dict, s: int, p: int, pool: str, t: int):
    torch = pytest.importorskip("torch")
    fn = torch.nn.functional
    ts = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in given.items()}
    x = ts["x"] if ts["x"].dim() == 4 else ts["x"][None]
    z = fn.conv2d(x, ts["K"], ts["b"], stride=s, padding=p)
    a = torch.relu(z)
    q = (fn.max_pool2d if pool == "maxpool" else fn.avg_pool2d)(a, 2, t)
    f = q.flatten(1).T  # one sample per column
    c = ts["c"][:, None]
    y = ts["W"] @ f + c
    target = ts["T"] if ts["T"].dim() == 2 else ts["T"][:, None]
    loss = 0.5 * ((y - target) ** 2).sum()
    loss.backward()
    squeeze = given["x"].ndim == 3
    return {
        "z": z[0] if squeeze else z,
        "q": q[0] if squeeze else q,
        "y": y,
        "L": loss,
    }, {k: ts[k].grad for k in PARAMS}


CASES = [
    (batch, c, f, size, s, p, pool, t)
    for batch in (None, 2)
    for (c, f) in ((1, 2), (2, 3), (3, 1))
    for (size, s, p) in ((5, 1, 0), (6, 2, 1), (5, 1, 1))
    for pool, t in (("maxpool", 2), ("avgpool", 1))
]


@pytest.mark.parametrize("batch, c, f, size, s, p, pool, t", CASES)
def test_images_and_batches_against_torch(batch, c, f, size, s, p, pool, t):
    given = _given(batch, c, f, size, s, p, t)
    trace = solve(_graph(given, s, p, pool, t), given, Rounding(6), exact=False)
    values, grads = _torch_reference(given, s, p, pool, t)
    for name, ref in values.items():
        mine = trace.values[name]
        np.testing.assert_allclose(
            mine.reshape(ref.shape), ref.detach().numpy(), rtol=1e-9, atol=1e-12, err_msg=name
        )
    for name, ref in grads.items():
        mine = trace.grads[name]
        np.testing.assert_allclose(
            mine.reshape(ref.shape), ref.numpy(), rtol=1e-9, atol=1e-12, err_msg=f"d{name}"
        )


@pytest.mark.parametrize("batch", (None, 3))
def test_gradients_against_central_differences(batch):
    given = _given(batch, 2, 2, 5, 1, 1, 2)
    graph = _graph(given, 1, 1, "avgpool", 2)
    trace = solve(graph, given, Rounding(6), exact=False)
    h = 1e-6
    for name in ("x", "K", "b"):
        flat = given[name].reshape(-1)
        for i in range(0, flat.size, max(1, flat.size // 7)):
            up, down = (dict(given, **{name: given[name].copy()}) for _ in range(2))
            up[name].reshape(-1)[i] += h
            down[name].reshape(-1)[i] -= h
            numeric = (
                solve(graph, up, Rounding(6), exact=False, backward=False).values["L"]
                - solve(graph, down, Rounding(6), exact=False, backward=False).values["L"]
            ) / (2 * h)
            grad = trace.grads[name].reshape(-1)[i]
            assert grad == pytest.approx(float(numeric.reshape(-1)[0]), rel=1e-5, abs=1e-7)


def test_an_exact_network_of_images_runs_in_fractions():
    ints = np.random.default_rng(5)
    given = {
        "x": ints.integers(-2, 3, size=(2, 2, 4, 4)),
        "K": ints.integers(-1, 2, size=(2, 2, 3, 3)),
        "b": ints.integers(-1, 2, size=2),
        "W": ints.integers(-1, 2, size=(1, 2)),
        "c": np.array([1]),
        "T": np.array([[1, 2]]),
    }
    exact = {k: to_array(v.tolist(), k) for k, v in given.items()}
    lines = [
        "z = conv2d(x, K) + b",
        "q = maxpool(z)",
        "f = flatten(q)",
        "y = W @ f + c",
        "L = 0.5 * sum((y - T)**2)",
    ]
    graph = compile_graph([parse_equation(x) for x in lines], exact, "L", PARAMS)
    assert graph.exact
    trace = solve(graph, exact, Rounding(2))
    assert trace.values["L"].dtype == object
    assert all(isinstance(v, Fraction) for v in trace.grads["K"].reshape(-1))
    floats = solve(graph, {k: v.astype(float) for k, v in given.items()}, Rounding(2), exact=False)
    for name in ("L", "K", "b", "x"):
        source = trace.grads[name] if name != "L" else trace.values[name]
        other = floats.grads[name] if name != "L" else floats.values[name]
        np.testing.assert_allclose(source.astype(float), other, rtol=1e-12)


def _message(lines: list[str], given: dict) -> GraphError:
    with pytest.raises(GraphError) as err:
        compile_graph([parse_equation(x) for x in lines], given, "L", ["K"])
    return err.value


def test_shapes_that_do_not_fit_are_refused_with_the_reason():
    image = np.zeros((2, 5, 5))
    err = _message(["z = conv2d(x, K)", "L = sum(z)"], {"x": image, "K": np.zeros((3, 3))})
    assert str(err) == (
        "a 3×3 kernel takes a one-channel H×W image, not x of shape 2×5×5 in "
        "conv2d(x, K) (give K as F×C×kh×kw filters)"
    )
    assert err.blame == "K"
    err = _message(["z = conv2d(x, K)", "L = sum(z)"], {"x": image, "K": np.zeros((4, 3, 3, 3))})
    assert (
        str(err) == "filters 4×3×3×3 have 3 channel(s), the image x (2×5×5) has 2 in conv2d(x, K)"
    )
    err = _message(
        ["z = conv2d(x, K) + b", "L = sum(z)"],
        {"x": image, "K": np.zeros((4, 2, 3, 3)), "b": np.zeros(3)},
    )
    assert str(err) == (
        "conv2d(x, K) (shape 4×3×3) and b (of length 3) do not fit in 'conv2d(x, K) + b': "
        "an image or a batch takes a scalar, a value of its own shape, or a vector of one "
        "value per channel (4)"
    )
    err = _message(["z = K @ x", "L = sum(z)"], {"x": image, "K": np.zeros((2, 2))})
    assert str(err) == (
        "'K @ x' takes scalars, vectors and matrices; x has shape 2×5×5 "
        "(flatten(...) turns an image or a batch into a matrix)"
    )
    err = _message(["z = flatten(K)", "L = sum(z)"], {"K": np.zeros(3)})
    assert str(err) == (
        "'flatten(K)' flattens a map H×W, an image C×H×W or a batch N×C×H×W, not K (of length 3)"
    )


def test_flatten_keeps_row_major_order_and_samples_as_columns():
    x = np.arange(2 * 2 * 2 * 3).reshape(2, 2, 2, 3)
    lines = ["f = flatten(x)", "L = sum(f)"]
    graph = compile_graph([parse_equation(t) for t in lines], {"x": x}, "L", ["x"])
    assert graph.nodes["f"].shape == (12, 2)
    trace = solve(graph, {"x": x}, Rounding(2), exact=False)
    np.testing.assert_array_equal(trace.values["f"][:, 1], np.arange(12, 24))
    one = {"x": x[0]}
    graph = compile_graph([parse_equation(t) for t in lines], one, "L", ["x"])
    assert (graph.nodes["f"].shape, graph.nodes["f"].rank) == ((12, 1), 1)


@pytest.mark.parametrize(
    "value, message",
    [
        (
            [[[1, 2], [3, 4]], [[1, 2]]],
            "the matrices have different shapes: item 0 is 2×2, item 1 is 1×2",
        ),
        ([[[[[1]]]]], "expected a number, found a list (values have at most 4 dimensions)"),
    ],
)
def test_values_of_up_to_four_dimensions(value, message):
    with pytest.raises(DefinitionError) as err:
        to_array(value, "values.x")
    assert message in str(err.value)
    assert to_array([[[[1, 2]], [[3, 4]]]], "values.x").shape == (1, 2, 1, 2)


def test_a_notebook_refuses_images_with_the_reason(tmp_path):
    from exgen.define.load import load_sheet

    source = (ROOT / "exercises" / "cnn.yaml").read_text()
    marker = "    ask: [output_shapes, param_count, forward, backward]\n    space: 120\n"
    assert source.count(marker) == 1
    path = tmp_path / "cnn.yaml"
    path.write_text(source.replace(marker, marker + "    notebook: {tasks: [forward]}\n"))
    with pytest.raises(DefinitionError) as err:
        load_sheet(str(path))
    assert str(err.value).endswith(
        "exercises[3].notebook: notebooks take networks of scalars, vectors and matrices; "
        "x has shape 2×4×4 (an image, a batch or a bank of filters)"
    )


def _random_tensor_network(seed: int):
    """A random small CNN on an image or a batch: one or two convolutions (channels,
    filters, stride 1–2, padding 0–1, a bias or not), an element-wise function after
    each, a pooling or not, then flatten, a dense layer and a squared error; as
    equations for the engine and as a function of torch tensors."""
    rng = np.random.default_rng(seed)
    batch = int(rng.integers(1, 3)) if rng.random() < 0.5 else None
    c, h = int(rng.integers(1, 4)), int(rng.integers(4, 7))
    shape = (*((batch,) if batch else ()), c, h, h)
    given = {"x": rng.normal(size=shape)}
    lines, steps, src = [], [], "x"
    for k in range(1, int(rng.integers(1, 3)) + 1):
        f = int(rng.integers(1, 4))
        s, p = int(rng.integers(1, 3)), int(rng.integers(0, 2))
        kh = int(rng.integers(1, min(3, h + 2 * p) + 1))
        given[f"K{k}"] = rng.normal(size=(f, c, kh, kh))
        text = f"conv2d({src}, K{k}, stride={s}, padding={p})"
        bias = rng.random() < 0.6
        if bias:
            given[f"b{k}"] = rng.normal(size=f)
            text += f" + b{k}"
        fn = str(rng.choice(["relu", "tanh", "sigmoid", "identity"]))
        lines += [f"z{k} = {text}", f"a{k} = {fn}(z{k})"]
        steps.append(("conv", k, s, p, bias, fn))
        c, h, src = f, (h + 2 * p - kh) // s + 1, f"a{k}"
        if h >= 2 and rng.random() < 0.6:
            kind = str(rng.choice(["maxpool", "avgpool"]))
            lines.append(f"q{k} = {kind}({src}, size=2, stride=1)")
            steps.append((kind, k))
            h, src = h - 1, f"q{k}"
    n = c * h * h
    given["W"], given["T"] = rng.normal(size=(2, n)), rng.normal(size=(2, batch or 1))
    lines += [f"f = flatten({src})", "y = W @ f", "L = 0.5 * sum((y - T)**2)"]
    return lines, given, steps


def _torch_forward(torch, given: dict, steps: list, batch: bool):
    fn = torch.nn.functional
    ts = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in given.items()}
    a = ts["x"] if batch else ts["x"][None]
    for step in steps:
        if step[0] == "conv":
            _, k, s, p, bias, name = step
            z = fn.conv2d(a, ts[f"K{k}"], ts[f"b{k}"] if bias else None, stride=s, padding=p)
            a = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}.get(
                name, lambda t: t
            )(z)
        else:
            a = (fn.max_pool2d if step[0] == "maxpool" else fn.avg_pool2d)(a, 2, 1)
    y = ts["W"] @ a.flatten(1).T
    loss = 0.5 * ((y - ts["T"]) ** 2).sum()
    loss.backward()
    return loss, ts


@pytest.mark.parametrize("seed", range(60))
def test_random_networks_of_images_against_torch(seed):
    """Every parameter's gradient and the loss within 1e-9 relative of autograd."""
    torch = pytest.importorskip("torch")
    lines, given, steps = _random_tensor_network(seed)
    params = [k for k in given if k not in ("x", "T")]
    graph = compile_graph([parse_equation(t) for t in lines], given, "L", [*params, "x"])
    trace = solve(graph, given, Rounding(6), exact=False)
    loss, ts = _torch_forward(torch, given, steps, given["x"].ndim == 4)
    assert float(trace.values["L"][0, 0]) == pytest.approx(loss.item(), rel=1e-9)
    for name in [*params, "x"]:
        ref = ts[name].grad.numpy()
        np.testing.assert_allclose(
            trace.grads[name].reshape(ref.shape), ref, rtol=1e-9, atol=1e-12, err_msg=name
        )


def test_pooling_images_in_a_float_network_is_checked(tmp_path):
    """Pooling an image's maps (the routed backward) in a network with a sigmoid: the
    routed sums of printed numbers are exact, whatever the network's arithmetic."""
    from cli_run import invoke

    (tmp_path / "avg.yaml").write_text(
        "title: t\n"
        "exercises:\n"
        "  - id: e\n"
        "    title: e\n"
        "    network:\n"
        "      equations:\n"
        "        - z = conv2d(x, K, stride=2)\n"
        "        - p = avgpool(z)\n"
        "        - f = flatten(p)\n"
        "        - y = sigmoid(W @ f)\n"
        "        - L = 0.5 * sum((y - t)**2)\n"
        "      loss: L\n"
        "      params: [K, W]\n"
        "    values:\n"
        "      x: [[[1, 0, 2, 1], [0, 1, 1, 0], [2, 1, 0, 1], [1, 0, 1, 2]]]\n"
        "      K: [[[[1, 0], [0, -1]]], [[[1, 1], [0, 0]]]]\n"
        "      W: [[1, -1]]\n"
        "      t: [1]\n"
        "    ask: [forward, backward]\n"
    )
    result = invoke(tmp_path, "check", "avg.yaml")
    assert result.exit_code == 0, result.output
    assert "printed steps ok" in result.output


def test_a_requested_gradient_is_not_listed_as_a_parameters(tmp_path):
    """cnn.yaml's question 2 asks backward (∂L/∂K) and gradients: [x]: the parameters'
    box holds ∂L/∂K only, the requested box ∂L/∂x only."""
    import re

    from cli_run import invoke

    result = invoke(tmp_path, "build", str(ROOT / "exercises" / "cnn.yaml"), "--no-pdf")
    assert result.exit_code == 0, result.output
    html = (tmp_path / "out" / "cnn" / "key.html").read_text()
    section = html[html.index('id="stride"') : html.index('id="net"')]
    boxes = re.findall(
        r'<div class="answers">\s*<h3>([^<]*)</h3>(.*?)</div>\s*</div>', section, re.S
    )
    assert [title for title, _ in boxes] == [
        "Gradients w.r.t. the parameters",
        "Requested gradients",
    ]
    wrt = [re.findall(r'∂</mo><mi mathvariant="bold">(\w)</mi>', body) for _, body in boxes]
    assert wrt == [["K"], ["x"]]


def _nested(depth: int):
    from hypothesis import strategies as st

    leaf = st.one_of(st.integers(-5, 5), st.text(max_size=2), st.none())
    if depth == 0:
        return leaf
    return st.one_of(leaf, st.lists(_nested(depth - 1), max_size=3))


def test_any_nested_value_is_read_or_refused_with_a_located_message():
    """Values of any nesting (ragged, mixed, too deep, not numbers) either become an array
    of the list's own shape or a DefinitionError naming where: nothing else escapes."""
    from hypothesis import given, settings

    @settings(max_examples=300, deadline=None)
    @given(_nested(6))
    def check(value):
        try:
            arr = to_array(value, "values.x")
        except DefinitionError as err:
            assert "values.x" in str(err)
            return
        assert np.array(value, dtype=object).shape == arr.shape

    check()


def test_any_shapes_compile_or_are_refused_with_a_graph_error():
    """Images, batches, kernels and biases of any small shape through a convolution,
    pooling and flatten: the graph compiles (and then solves) or says why it cannot."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    dims_ = st.lists(st.integers(1, 4), min_size=0, max_size=4).map(tuple)

    @settings(max_examples=300, deadline=None)
    @given(
        dims_,
        dims_,
        dims_,
        st.integers(1, 2),
        st.integers(0, 1),
        st.sampled_from(["maxpool", "avgpool"]),
    )
    def check(x, k, b, s, p, pool):
        given_ = {name: np.ones(shape) for name, shape in (("x", x), ("K", k), ("b", b))}
        lines = [
            f"z = conv2d(x, K, stride={s}, padding={p}) + b",
            f"q = {pool}(z)",
            "f = flatten(q)",
            "L = sum(f)",
        ]
        try:
            graph = compile_graph([parse_equation(t) for t in lines], given_, "L", ["K", "b"])
        except GraphError as err:
            assert str(err)
            return
        solve(graph, given_, Rounding(2), exact=False)

    check()
