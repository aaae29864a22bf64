"""What a notebook's tasks know of their exercise: the graph, the student's values at
full precision (exact where the network is), and each value's shape in NumPy."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from exgen.engine.rounding import Rounding
from exgen.engine.solve import Trace, solve
from exgen.notebooks.numpy_code import NumpyCode

if TYPE_CHECKING:  # the definition stage sits above the notebooks
    from exgen.define.load import ExerciseDef


@dataclass
class Setting:
    ex: ExerciseDef
    tasks: tuple[str, ...]
    salt: str
    built: Trace  # the build's own trace of the exercise

    @property
    def graph(self):
        return self.ex.graph

    @cached_property
    def trace(self) -> Trace:
        """Full precision: a notebook computes without rounding in between. The build's
        trace is that already unless the key carries its rounding."""
        if not self.built.rounding.carry:
            return self.built
        plain = Rounding(self.ex.rounding.digits, carry=False)
        return solve(self.graph, self.ex.given, plain, exact=self.ex.exact)

    @cached_property
    def code(self) -> NumpyCode:
        """The network's forward and backward passes in NumPy (the tasks share them)."""
        return NumpyCode(self.graph)

    @property
    def shapes(self) -> dict[str, tuple]:
        return self.code.shapes

    @property
    def lr(self) -> float:
        return self.ex.spec.notebook.lr

    @property
    def print_first_gradient(self) -> bool:
        return self.ex.spec.notebook.print_first_gradient

    @property
    def steps(self) -> int:
        return self.ex.spec.notebook.steps

    @property
    def digits(self) -> int:
        return self.ex.rounding.digits

    @property
    def given_names(self) -> list[str]:
        """The given values (data and parameters), in the order the network uses them."""
        return [n for n, node in self.graph.nodes.items() if node.kind == "given"]

    def value(self, name: str) -> np.ndarray:
        return np.reshape(self.trace.values[name], self.shapes[name])

    def grad(self, name: str) -> np.ndarray:
        return np.reshape(self.trace.grads[name], self.shapes[name])

    def given(self, name: str) -> np.ndarray:
        return np.reshape(np.asarray(self.ex.given[name]), self.shapes[name])
