"""Random networks in the equations form, for the oracle tests."""

from __future__ import annotations

import random
from fractions import Fraction

RATIONAL_UNARY = ["relu", "identity", "step"]
FLOAT_UNARY = ["sigmoid", "tanh", "exp", "relu", "identity"]


def _grid(rng: random.Random) -> Fraction:
    return Fraction(rng.randint(-8, 8), 4)


def _matrix(rng, rows, cols):
    return [[_grid(rng) for _ in range(cols)] for _ in range(rows)]


def random_network(seed: int, rational: bool, batch: int | None = None):
    """(equations, given values, loss, params): a random DAG of the whitelisted ops,
    with vector and scalar biases, skip connections and shared inputs."""
    rng = random.Random(seed)
    batch = rng.choice([None, 1, 2, 3]) if batch is None else batch
    features = rng.randint(1, 4)
    given = {
        "x": [_grid(rng) for _ in range(features)] if not batch else _matrix(rng, features, batch)
    }
    cols = batch or 1
    pool = [("x", features)]  # (name, rows); every node has `cols` columns
    equations, params = [], []
    for k in range(1, rng.randint(3, 7) + 1):
        name = f"h{k}"
        kind = rng.choice(["linear", "linear", "unary", "skip", "scale", "power", "divide"])
        src, rows = rng.choice(pool)
        if kind == "linear":
            out = rng.randint(1, 4)
            w = f"W{k}"
            transposed = rng.random() < 0.25
            given[w] = _matrix(rng, rows, out) if transposed else _matrix(rng, out, rows)
            text = f"{w}.T @ {src}" if transposed else f"{w} @ {src}"
            params.append(w)
            bias = rng.choice(["vector", "scalar", None])
            if bias == "vector":
                given[f"b{k}"] = [_grid(rng) for _ in range(out)]
                text += f" + b{k}"
                params.append(f"b{k}")
            elif bias == "scalar":
                given[f"c{k}"] = _grid(rng)
                text = f"c{k} + {text}" if rng.random() < 0.5 else f"{text} - c{k}"
                params.append(f"c{k}")
            rows = out
        elif kind == "unary":
            fn = rng.choice(RATIONAL_UNARY if rational else FLOAT_UNARY)
            text = f"{fn}({src})" if fn != "exp" else f"exp(0.5 * {src})"
        elif kind == "skip":
            same = [n for n, r in pool if r == rows]
            other = rng.choice(same)
            text = f"{src} {rng.choice(['+', '-', '*'])} {other}"
        elif kind == "scale":
            text = rng.choice([f"0.5 * {src}", f"{src} / 4", f"-{src}", f"(2 * {src} - {src}) * 3"])
        elif kind == "power":
            text = (
                f"{src} ** 2"
                if rational
                else rng.choice([f"{src} ** 2", f"(1 + {src} ** 2) ** 0.5"])
            )
        else:
            text = f"{src} / (1 + {src} ** 2)" if rational else f"log(1 + {src} ** 2)"
        equations.append(f"{name} = {text}")
        pool.append((name, rows))
    last, rows = pool[-1]
    extra, _ = rng.choice(pool[:-1])
    given["t"] = [_grid(rng) for _ in range(rows)] if not batch else _matrix(rng, rows, cols)
    if rational:
        equations.append(f"L = 0.5 * sum(({last} - t) ** 2) + mean({extra}) / {cols}")
    else:
        pick = rng.choice(["squared", "softmax"])
        if pick == "softmax":
            equations.append(f"p = softmax({last})")
            equations.append(f"L = -sum(t * log(p)) + mean({extra})")
        else:
            equations.append(f"L = 0.5 * sum(({last} - t) ** 2) + mean(tanh({extra}))")
    if not params:
        params = ["x"]
    return equations, given, "L", params
