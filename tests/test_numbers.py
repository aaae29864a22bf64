from fractions import Fraction

import pytest

from exgen.engine.rounding import round_half_up, shown, shown_given


@pytest.mark.parametrize(
    "text, expected",
    [
        ("8.825", "8.83"),
        ("14.825", "14.83"),
        ("5.125", "5.13"),
        ("-8.825", "-8.83"),
        ("0.005", "0.01"),
        ("-0.005", "-0.01"),
        ("2.675", "2.68"),
        ("1.005", "1.01"),
        ("-0.004", "0.00"),
        ("-0.0001", "0.00"),
        ("0", "0.00"),
        ("48.235", "48.24"),
    ],
)
def test_half_up_on_the_decimal_value(text, expected):
    assert shown(Fraction(text), 2) == expected
    assert shown(float(text), 2) == expected  # binary floats are read as their decimal


def test_float_noise_does_not_decide_a_tie():
    assert shown(0.1 + 0.2 + 8.525 - 0.3, 2) == "8.53"
    assert round_half_up(8.825, 2) == 8.83


def test_exact_rounding_stays_exact():
    assert round_half_up(Fraction(1, 3), 2) == Fraction(33, 100)
    assert round_half_up(Fraction(-1, 8), 2) == Fraction(-13, 100)
    assert round_half_up(Fraction(5, 2), 0) == 3


def test_digits():
    assert shown(Fraction(2, 3), 0) == "1"
    assert shown(Fraction(2, 3), 4) == "0.6667"
    assert shown(-0.00001, 4) == "0.0000"


def test_given_values_as_written():
    assert shown_given(Fraction("0.4"), 2) == "0.4"
    assert shown_given(Fraction(3), 2) == "3"
    assert shown_given(Fraction("-0.25"), 2) == "-0.25"
    assert shown_given(0.0123456789, 2) == "0.012346"


def test_carried_float_networks_do_their_rational_steps_on_the_decimals():
    """0.27·(−0.5) + 0.45·(−1) + 0.27·2 = −0.045 exactly, −0.04499999999999993 in float64:
    a key rounding every intermediate must print −0.05, as a student (and the checker) does."""
    import numpy as np

    from exgen.engine.equations import parse_equation
    from exgen.engine.graph import compile_graph
    from exgen.engine.rounding import Rounding
    from exgen.engine.solve import solve

    given = {"a": np.array([[0.27, 0.45, 0.27]]), "v": np.array([-0.5, -1, 2]), "t": np.array(1)}
    lines = ["u = a @ v", "h = tanh(u) * t", "L = h * u"]
    graph = compile_graph([parse_equation(x) for x in lines], given, "L", ["v"])
    assert not graph.exact
    trace = solve(graph, given, Rounding(2, carry=True))
    assert float(trace.values["u"][0, 0]) == -0.05
    # the backward pass likewise: ∂L/∂u = h + u·(1 − tanh²) summed exactly on decimals
    assert trace.grads["v"].dtype == float
