"""A network from scratch in NumPy (seed 003's eight-task starter): the student writes
the layers as functions — linear and ReLU forward and backward, softmax with
cross-entropy, all gradients, the update, training — and each function is checked on
the student's own network, against the engine's values for it.

It needs a network of dense layers with ReLU between them and the softmax_ce loss (the
``layers:`` shorthand writes exactly that)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from exgen.engine.rounding import Rounding
from exgen.engine.solve import solve
from exgen.notebooks.numpy_code import grad_name

if TYPE_CHECKING:
    from exgen.engine.graph import Graph
    from exgen.notebooks.context import Setting
    from exgen.notebooks.tasks import Cells


@dataclass(frozen=True)
class Layer:
    pre: str  # u = input @ W + b
    input: str
    weight: str
    bias: str
    act: str = ""  # relu(pre), empty for the last layer


@dataclass(frozen=True)
class Network:
    layers: tuple[Layer, ...]
    probabilities: str
    loss: str
    data: str
    target: str
    row: bool

    @property
    def params(self) -> list[str]:
        return [p for layer in self.layers for p in (layer.weight, layer.bias)]

    @property
    def sample_axis(self) -> int:
        return 0 if self.row else 1


NEEDS = (
    "needs a network of dense layers with ReLU between them and the softmax_ce loss "
    "(e.g. network: {layers: [{units: 4, activation: relu}, {units: 3}], loss: softmax_ce})"
)


def network_of(graph: Graph) -> Network | None:
    """The layers of ``graph``, or None when it is not such a network."""
    eqs = list(graph.equations)
    if len(eqs) < 3 or eqs[-2].expr.op != "softmax" or eqs[-1].target != graph.loss:
        return None
    layers: list[Layer] = []
    for eq in eqs[:-2]:
        e = eq.expr
        if e.op == "add" and e.args[0].op == "matmul" and e.args[1].op == "name":
            a, b = e.args[0].args
            row = a.op == "name" and a.name not in graph.params
            inputs, weight = (a.name, b.name) if row else (b.name, a.name)
            layers.append(Layer(eq.target, inputs, weight, e.args[1].name))
        elif e.op == "relu" and layers and not layers[-1].act and e.args[0].name == layers[-1].pre:
            layers[-1] = replace(layers[-1], act=eq.target)
        else:
            return None
    loss_names = {n for n in graph.ancestors(graph.loss) if graph.nodes[n].kind == "given"}
    target = next(iter(loss_names - set(graph.params) - {layers[0].input}), "") if layers else ""
    if len(layers) < 2 or layers[-1].act or any(not x.act for x in layers[:-1]) or not target:
        return None
    return Network(
        tuple(layers), eqs[-2].target, graph.loss, layers[0].input, target, graph.layout == "row"
    )


def _lines(*lines: str) -> str:
    return "\n".join(lines)


LINEAR = {  # the dense layer and its backward, by layout (samples as rows or as columns)
    True: {"forward": "X @ W + b", "dX": "dZ @ W.T", "dW": "X.T @ dZ", "db": "np.sum(dZ, axis=0)"},
    False: {
        "forward": "W @ X + b",
        "dX": "W.T @ dZ",
        "dW": "dZ @ X.T",
        "db": "np.sum(dZ, axis=1, keepdims=True)",
    },
}


def stub(signature: str, doc: str, body: str, solved: bool) -> str:
    return _lines(
        f"def {signature}:", f'    """{doc}"""', body if solved else "    return None  # TODO"
    )


def linear_forward(s: Setting, n: Network, solved: bool) -> str:
    forward = LINEAR[n.row]["forward"]
    return stub(
        "linear_forward(X, W, b)", f"The dense layer: {forward}.", f"    return {forward}", solved
    )


def relu_forward(s, n, solved):
    return stub("relu_forward(Z)", "ReLU, entry by entry.", "    return np.maximum(0, Z)", solved)


def softmax_ce(s, n, solved):
    axis = 1 if n.row else 0
    body = _lines(
        f"    N = Z.shape[{n.sample_axis}]",
        f"    E = np.exp(Z - np.max(Z, axis={axis}, keepdims=True))  # shifted: no overflow",
        f"    P = E / np.sum(E, axis={axis}, keepdims=True)",
        "    loss = -np.sum(Y * np.log(P)) / N",
        "    return loss, (P - Y) / N",
    )
    doc = "The mean cross-entropy of softmax(Z) against one-hot Y, and its gradient in Z."
    return stub("softmax_cross_entropy(Z, Y)", doc, body, solved)


def linear_backward(s, n, solved):
    code = LINEAR[n.row]
    body = f"    return {code['dX']}, {code['dW']}, {code['db']}"
    doc = "The gradients of the layer's input, weights and bias, from the output's dZ."
    return stub("linear_backward(dZ, X, W)", doc, body, solved)


def relu_backward(s, n, solved):
    doc = "The gradient of ReLU's input, from its output's dA."
    return stub("relu_backward(dA, Z)", doc, "    return dA * (Z > 0)", solved)


def gradients(s, n, solved):
    body = _lines(
        "    Ws, bs = params[0::2], params[1::2]",
        "    inputs, pres, A = [], [], X",
        "    for k, (W, b) in enumerate(zip(Ws, bs)):",
        "        inputs.append(A)",
        "        Z = linear_forward(A, W, b)",
        "        pres.append(Z)",
        "        A = relu_forward(Z) if k < len(Ws) - 1 else Z",
        "    loss, dZ = softmax_cross_entropy(A, Y)",
        "    grads = [None] * len(params)",
        "    for k in reversed(range(len(Ws))):",
        "        if k < len(Ws) - 1:",
        "            dZ = relu_backward(dA, pres[k])",
        "        dA, grads[2 * k], grads[2 * k + 1] = linear_backward(dZ, inputs[k], Ws[k])",
        "    return loss, grads",
    )
    doc = "The loss and the gradient of every parameter ([W1, b1, W2, b2, …], in that order)."
    return stub("gradients(X, Y, params)", doc, body, solved)


def sgd_update(s, n, solved):
    doc = "One step of gradient descent: each parameter minus lr times its gradient."
    body = "    return [P - lr * dP for P, dP in zip(params, grads)]"
    return stub("sgd_update(params, grads, lr)", doc, body, solved)


def train(s, n, solved):
    body = _lines(
        "    losses = []",
        "    for _ in range(steps):",
        "        loss, grads = gradients(X, Y, params)",
        "        losses.append(loss)",
        "        params = sgd_update(params, grads, lr)",
        "    return params, losses",
    )
    doc = "``steps`` steps of gradient descent; the parameters after them and each step's loss."
    return stub("train(X, Y, params, lr, steps)", doc, body, solved)


def trained(s: Setting, n: Network, steps: int) -> tuple[dict, float]:
    """The parameters after ``steps`` steps of gradient descent, and the loss there,
    from the engine (full precision)."""
    given = {k: np.asarray(v, dtype=float) for k, v in s.ex.given.items()}
    plain = Rounding(s.digits, carry=False)
    for _ in range(steps):
        trace = solve(s.graph, given, plain, exact=False)
        for p in n.params:
            given[p] = given[p] - s.lr * np.reshape(trace.grads[p].astype(float), given[p].shape)
    loss = solve(s.graph, given, plain, exact=False, backward=False).values[n.loss]
    return given, float(loss.reshape(-1)[0])


def cells_for(name: str, s: Setting) -> Cells:
    """The cells of one from-scratch task: the function to write, and the checks that
    run it on the student's own network (names ending in _ are the notebook's)."""
    from exgen.notebooks.tasks import Cells

    n = network_of(s.graph)
    assert n is not None  # checked when the definition was read
    given, checks = CHECKS[name](s, n)
    intro = INTROS[name].format(lr=s.lr, steps=s.steps)
    write = FUNCTIONS[name]
    return Cells(intro, write(s, n, False), write(s, n, True), checks, given)


def _first_layer(s: Setting, n: Network, relu: bool):
    from exgen.notebooks.tasks import Check

    layer = n.layers[0]
    call = f"linear_forward({layer.input}, {layer.weight}, {layer.bias})"
    if relu:
        return "", [Check(layer.act, f"lambda: relu_forward({call})", s.value(layer.act))]
    return "", [Check(layer.pre, f"lambda: {call}", s.value(layer.pre))]


def _forward_function(n: Network) -> str:
    lines = [
        "def forward_():",
        '    """Your forward pass, with your functions: each layer\'s values."""',
    ]
    lines.append("    v = {}")
    previous = n.data
    for layer in n.layers:
        lines.append(
            f'    v["{layer.pre}"] = linear_forward({previous}, {layer.weight}, {layer.bias})'
        )
        if layer.act:
            lines.append(f'    v["{layer.act}"] = relu_forward(v["{layer.pre}"])')
            previous = f'v["{layer.act}"]'
    return _lines(*lines, "    return v")


def _softmax_checks(s: Setting, n: Network):
    from exgen.notebooks.tasks import Check

    last = n.layers[-1]
    call = f'softmax_cross_entropy(forward_()["{last.pre}"], {n.target})'
    loss = float(np.reshape(s.value(n.loss), -1)[0])
    return _forward_function(n), [
        Check(n.loss, f"lambda: {call}[0]", loss),
        Check(grad_name(last.pre), f"lambda: {call}[1]", s.grad(last.pre)),
    ]


def _linear_backward_checks(s: Setting, n: Network):
    from exgen.notebooks.tasks import Check

    last, hidden = n.layers[-1], n.layers[-2]
    given = _lines(
        "def last_layer_backward_():",
        '    """Your backward pass through the last layer: dX, dW, db."""',
        "    v = forward_()",
        f'    d{last.pre} = softmax_cross_entropy(v["{last.pre}"], {n.target})[1]',
        f'    return linear_backward(d{last.pre}, v["{hidden.act}"], {last.weight})',
    )
    return given, [
        Check(grad_name(last.weight), "lambda: last_layer_backward_()[1]", s.grad(last.weight)),
        Check(grad_name(last.bias), "lambda: last_layer_backward_()[2]", s.grad(last.bias)),
        Check(grad_name(hidden.act), "lambda: last_layer_backward_()[0]", s.grad(hidden.act)),
    ]


def _relu_backward_checks(s: Setting, n: Network):
    from exgen.notebooks.tasks import Check

    hidden = n.layers[-2]
    call = f'lambda: relu_backward(last_layer_backward_()[0], forward_()["{hidden.pre}"])'
    return "", [Check(grad_name(hidden.pre), call, s.grad(hidden.pre))]


def _gradients_checks(s: Setting, n: Network):
    from exgen.notebooks.tasks import Check

    given = f"params_ = [{', '.join(n.params)}]"
    call = f"gradients({n.data}, {n.target}, params_)"
    return given, [
        Check(grad_name(q), f"lambda: {call}[1][{k}]", s.grad(q)) for k, q in enumerate(n.params)
    ]


def _update_checks(s: Setting, n: Network):
    from exgen.notebooks.tasks import Check

    call = f"sgd_update(params_, gradients({n.data}, {n.target}, params_)[1], {s.lr!r})"
    after, _ = trained(s, n, 1)
    return "", [
        Check(f"{q} after a step", f"lambda: {call}[{k}]", np.reshape(after[q], s.shapes[q]))
        for k, q in enumerate(n.params)
    ]


def _train_checks(s: Setting, n: Network):
    from exgen.notebooks.tasks import Check

    _, loss = trained(s, n, s.steps)
    run = f"train({n.data}, {n.target}, params_, {s.lr!r}, {s.steps})"
    return "", [
        Check(
            f"{n.loss} after {s.steps} steps",
            f"lambda: gradients({n.data}, {n.target}, {run}[0])[0]",
            loss,
        )
    ]


CHECKS = {
    "linear_forward": lambda s, n: _first_layer(s, n, relu=False),
    "relu_forward": lambda s, n: _first_layer(s, n, relu=True),
    "softmax_cross_entropy": _softmax_checks,
    "linear_backward": _linear_backward_checks,
    "relu_backward": _relu_backward_checks,
    "gradients": _gradients_checks,
    "sgd_update": _update_checks,
    "train": _train_checks,
}
FUNCTIONS = {
    "linear_forward": linear_forward,
    "relu_forward": relu_forward,
    "softmax_cross_entropy": softmax_ce,
    "linear_backward": linear_backward,
    "relu_backward": relu_backward,
    "gradients": gradients,
    "sgd_update": sgd_update,
    "train": train,
}
TITLES = {
    "linear_forward": "Dense layer, forward",
    "relu_forward": "ReLU, forward",
    "softmax_cross_entropy": "Softmax with cross-entropy",
    "linear_backward": "Dense layer, backward",
    "relu_backward": "ReLU, backward",
    "gradients": "Every gradient",
    "sgd_update": "A gradient-descent step",
    "train": "Training",
}
INTROS = {
    "linear_forward": "Write the dense layer's forward pass. It is checked on your first layer.",
    "relu_forward": "Write ReLU. It is checked on your first layer's output.",
    "softmax_cross_entropy": (
        "Write softmax with the mean cross-entropy loss over the samples; return the loss and "
        "its gradient with respect to the logits, (P − Y) / N (task T4 of the sheet)."
    ),
    "linear_backward": "Write the dense layer's backward pass. It is checked on your last layer.",
    "relu_backward": "Write ReLU's backward pass. It is checked on your last hidden layer.",
    "gradients": "Put your functions together: the forward pass, the loss and every gradient.",
    "sgd_update": "Write one step of gradient descent, here with learning rate {lr}.",
    "train": "Train: {steps} steps of gradient descent with learning rate {lr}. The loss should fall.",
}
