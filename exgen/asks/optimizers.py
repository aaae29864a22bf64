"""The optimizers of the `update` ask: their options, the rule that names their previous
state (values of the exercise), and one step of each, taken as PyTorch takes it.

- sgd: θ ← θ − η g (g = ∂L/∂θ);
- momentum {beta} (torch.optim.SGD(momentum=β), no dampening): v ← β v + g, θ ← θ − η v;
  the previous velocity of θ is the value ``v_θ``;
- adam {beta1, beta2, eps, t} (torch.optim.Adam): m ← β₁ m + (1 − β₁) g,
  v ← β₂ v + (1 − β₂) g², m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ), θ ← θ − η m̂/(√v̂ + ε),
  element-wise, t the number of this step; the previous moments are ``m_θ`` and ``v_θ``.

SGD and momentum are rational (exact in fractions when the network is); Adam's square
root is not: it is computed in float64.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
from pydantic import Field, model_validator

from exgen.asks.base import Strict
from exgen.engine.rounding import exact_array, float_array, round_array

CHOICES = "sgd, momentum: {beta} or adam: {beta1, beta2, eps, t}"
NAMES = ("sgd", "momentum", "adam")


class Sgd(Strict):
    pass


class Momentum(Strict):
    beta: float = Field(ge=0, lt=1, allow_inf_nan=False)


class Adam(Strict):
    beta1: float = Field(0.9, ge=0, lt=1, allow_inf_nan=False)
    beta2: float = Field(0.999, ge=0, lt=1, allow_inf_nan=False)
    eps: float = Field(1e-8, gt=0, le=1, allow_inf_nan=False)
    t: int = Field(ge=1, le=1_000_000)


class Optimizer(Strict):
    """`optimizer: sgd`, `optimizer: {momentum: {beta}}` or `optimizer: {adam: {…, t}}`."""

    sgd: Sgd | None = None
    momentum: Momentum | None = None
    adam: Adam | None = None

    @model_validator(mode="before")
    @classmethod
    def _named(cls, data):
        if isinstance(data, str):
            if data == "sgd":
                return {"sgd": {}}
            if data in NAMES:
                raise ValueError(f"{data} takes options: write {{{data}: {{…}}}} ({CHOICES})")
            raise ValueError(f"unknown optimizer '{data}' (expected {CHOICES})")
        if isinstance(data, dict) and data.get("sgd", 0) is None:
            return dict(data, sgd={})
        return data

    @model_validator(mode="after")
    def _one(self):
        chosen = [n for n in NAMES if getattr(self, n) is not None]
        if len(chosen) != 1:
            found = " and ".join(chosen) if chosen else "none"
            raise ValueError(f"expected one optimizer ({CHOICES}), found {found}")
        return self

    @property
    def name(self) -> str:
        return next(n for n in NAMES if getattr(self, n) is not None)


SGD = Optimizer(sgd=Sgd())

# the previous state: (the role, the value's name prefix, what it is)
ROLES = {
    "sgd": (),
    "momentum": (("v", "the velocity of"),),
    "adam": (("m", "the first moment of"), ("v", "the second moment of")),
}
NON_NEGATIVE = {"adam": ("v",)}  # a running mean of squares


def state_name(role: str, param: str) -> str:
    """The value that holds ``param``'s previous state ``role``: v_W1, m_W1."""
    return f"{role}_{param}"


def state_values(optimizer: Optimizer, params: tuple[str, ...]) -> dict[str, tuple[str, str, bool]]:
    """{value name: (its parameter, what it is, whether it is ≥ 0)},
    e.g. {"v_W1": ("W1", "the velocity of W1", False)}."""
    name = optimizer.name
    return {
        state_name(role, p): (p, f"{what} {p}", role in NON_NEGATIVE.get(name, ()))
        for p in params
        for role, what in ROLES[name]
    }


@dataclass
class Moved:
    """One parameter's step: the new parameter, and the optimizer's numbers on the way
    (by role: v, m, mhat, vhat), each after the rule's rounding."""

    new: np.ndarray
    after: dict[str, np.ndarray] = field(default_factory=dict)


def hyper(optimizer: Optimizer, lr: float, exact: bool) -> dict:
    """η and the optimizer's numbers as the arithmetic uses them (fractions of the decimals
    as written where the step is exact)."""
    name = optimizer.name
    exact = exact and name != "adam"
    num = (lambda x: Fraction(repr(x))) if exact else float
    out = {"lr": num(lr)}
    if name == "momentum":
        out["beta"] = num(optimizer.momentum.beta)
    if name == "adam":
        a = optimizer.adam
        out.update(beta1=num(a.beta1), beta2=num(a.beta2), eps=num(a.eps), t=a.t)
    return out


def step(
    optimizer: Optimizer, h: dict, old, grad, before: dict, carry: int | None, exact: bool
) -> Moved:
    """One step for one parameter; ``carry``: the digits each result is rounded to before
    it is used further (None: unrounded)."""

    def kept(a):
        return round_array(a, carry) if carry is not None else a

    name = optimizer.name
    if name == "sgd":
        return Moved(kept(old - h["lr"] * grad))
    if name == "momentum":
        convert = exact_array if exact else float_array
        v = kept(h["beta"] * convert(before["v"]) + grad)
        return Moved(kept(old - h["lr"] * v), {"v": v})
    old, grad = float_array(old), float_array(grad)
    b1, b2, t = h["beta1"], h["beta2"], h["t"]
    m = kept(b1 * float_array(before["m"]) + (1 - b1) * grad)
    v = kept(b2 * float_array(before["v"]) + (1 - b2) * grad * grad)
    mhat = kept(m / (1 - b1**t))
    vhat = kept(v / (1 - b2**t))
    new = kept(old - h["lr"] * mhat / (np.sqrt(vhat.astype(float)) + h["eps"]))
    return Moved(new, {"m": m, "v": v, "mhat": mhat, "vhat": vhat})
