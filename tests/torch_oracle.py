"""PyTorch autograd as an oracle: the parsed equations evaluated with torch ops."""

from __future__ import annotations

import numpy as np


def torch_trace(torch, equations, given, loss, layout="column") -> dict:
    """The equations run in torch (float64) and the loss backpropagated: each node's
    (tensor, rank), its gradient kept in `.grad`."""
    env = {}
    for name, value in given.items():
        arr = np.array(value, dtype=float)
        arr = arr.reshape(-1, 1) if arr.ndim == 1 else arr.reshape(1, 1) if arr.ndim == 0 else arr
        leaf = torch.tensor(arr, dtype=torch.float64, requires_grad=True)
        env[name] = (leaf, np.ndim(np.array(value, dtype=object)))
    fns = {
        "relu": torch.relu,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "exp": torch.exp,
        "log": torch.log,
        "sqrt": torch.sqrt,
        "identity": lambda t: t,
        "step": lambda t: (t > 0).to(torch.float64),
    }

    def fit(a, ra, b, rb):
        try:
            torch.broadcast_shapes(a.shape, b.shape)
        except RuntimeError:
            if ra == 1:
                a = a.T
            elif rb == 1:
                b = b.T
        return a, b

    def ev(e):
        if e.op == "name":
            return env[e.name]
        if e.op == "const":
            return torch.tensor([[float(e.value)]], dtype=torch.float64), 0
        if e.op == "pow":
            t, r = ev(e.args[0])
            return t ** float(e.args[1].value), r
        if e.op in ("add", "sub", "mul", "div", "matmul", "max", "min"):
            (a, ra), (b, rb) = ev(e.args[0]), ev(e.args[1])
            if e.op == "matmul":
                return a @ b, rb
            a, b = fit(a, ra, b, rb)
            out = {
                "add": lambda: a + b,
                "sub": lambda: a - b,
                "mul": lambda: a * b,
                "div": lambda: a / b,
                "max": lambda: torch.maximum(a, b),
                "min": lambda: torch.minimum(a, b),
            }[e.op]()
            return out, 1 if out.shape[1] == 1 and 2 not in (ra, rb) else 2
        kw = dict(e.keywords)
        if e.op in ("batchnorm", "layernorm"):  # torch wants samples × features
            (x, _), (gamma, _), (beta, _) = (ev(a) for a in e.args)
            rows = layout == "row" or x.ndim == 4  # a batch of images N×C×H×W as it is
            x = x if rows else x.T
            gamma, beta = gamma.reshape(-1), beta.reshape(-1)
            eps = float(kw.get("eps", 1e-5))
            if e.op == "batchnorm":
                out = torch.nn.functional.batch_norm(
                    x, None, None, gamma, beta, training=True, eps=eps
                )
            else:
                out = torch.nn.functional.layer_norm(x, x.shape[1:], gamma, beta, eps=eps)
            return (out if rows else out.T), max(2, x.ndim)
        if "axis" in kw and e.op in ("sum", "mean"):
            t, _ = ev(e.args[0])
            out = getattr(t, e.op)(dim=kw["axis"], keepdim=True)
            return out, 0 if out.shape == (1, 1) else 1 if out.shape[1] == 1 else 2
        t, r = ev(e.args[0])
        if e.op == "neg":
            return -t, r
        if e.op == "transpose":
            return t.T, (0 if r == 0 else 2)
        if e.op == "sum":
            return t.sum().reshape(1, 1), 0
        if e.op == "mean":
            return t.mean().reshape(1, 1), 0
        if e.op == "conv2d":  # one channel: a 1×1×H×W batch and a 1×1×kh×kw kernel
            k, _ = ev(e.args[1])
            stride, padding = kw.get("stride", 1), kw.get("padding", 0)
            return torch.nn.functional.conv2d(
                t[None, None], k[None, None], stride=int(stride), padding=int(padding)
            )[0, 0], 2
        if e.op in ("maxpool", "avgpool"):  # one channel: a 1×1×H×W batch for torch
            size = kw.get("size", 2)
            pool = getattr(torch.nn.functional, f"{e.op[:3]}_pool2d")
            return pool(t[None, None], size, kw.get("stride", size))[0, 0], 2
        if e.op == "softmax":
            return torch.softmax(t, dim=kw.get("axis", 0 if layout == "column" else 1)), r
        return fns[e.op](t), r

    for eq in equations:
        env[eq.target] = ev(eq.expr)
        if env[eq.target][0].requires_grad:
            env[eq.target][0].retain_grad()  # every node's gradient, not only the leaves'
    out = env[loss][0]
    out.sum().backward()
    return env


def torch_gradients(torch, equations, given, loss, layout="column"):
    """The loss and its gradient with respect to each given value, from autograd."""
    env = torch_trace(torch, equations, given, loss, layout)
    out = env[loss][0]
    return float(out.detach()[0, 0]), {
        n: env[n][0].grad.numpy() for n in given if env[n][0].grad is not None
    }


def torch_values_and_gradients(torch, equations, given, loss, layout="column"):
    """Every node's value and every node's gradient (given values and equations alike),
    from autograd; a node the loss does not depend on has no gradient."""
    env = torch_trace(torch, equations, given, loss, layout)
    values = {n: t.detach().numpy() for n, (t, _) in env.items()}
    grads = {n: t.grad.numpy() for n, (t, _) in env.items() if t.grad is not None}
    return values, grads
