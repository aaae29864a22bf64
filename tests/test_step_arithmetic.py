"""The printed-steps oracle (exgen.check.step_arithmetic): every op worked out again from
the printed numbers, right and wrong steps, carried and uncarried rounding."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from exgen.check.intervals import Interval, interval, softmax
from exgen.check.step_arithmetic import OPS, evaluate
from exgen.check.step_judging import judge


def step(op, *args, result, **keywords):
    return {"target": "u", "expr": {"op": op, "args": list(args), **keywords}, "result": result}


def col(*xs):
    return [[x] for x in xs]


# (step, wrong result): right with or without carried rounding; the wrong result is off by
# more than the printed numbers' rounding allows (one unit off: the property test below).
RIGHT_AND_WRONG = [
    (step("add", "1.25", "0.5", result="1.75"), "1.78"),
    (step("add", col("1.00", "2.00"), "0.5", result=col("1.50", "2.50")), col("1.50", "2.40")),
    (step("sub", "1.9000", "-0.1", result="2.0000"), "1.8000"),
    (step("mul", "0.50", "-1.96", result="-0.98"), "0.98"),
    (
        step("mul", col("1", "2"), [["3", "4"]], result=[["3", "4"], ["6", "8"]]),
        [["3", "4"], ["6", "9"]],
    ),
    (step("div", "1", "3", result="0.33"), "0.34"),
    (
        step(
            "matmul", [["0.4", "0.5"], ["0.2", "0.25"]], col("1", "2"), result=col("1.40", "0.70")
        ),
        col("1.40", "0.75"),
    ),
    (step("pow", "-7.00", "2", result="49.00"), "-49.00"),
    (step("pow", "2.00", "-1", result="0.50"), "0.25"),
    (step("pow", "4.00", "0.5", result="2.00"), "2.01"),
    (step("neg", "-4", result="4.00"), "-4.00"),
    (step("transpose", [["1", "2"]], result=col("1", "2")), col("2", "1")),
    (step("sum", [["1", "2"], ["3", "4"]], result="10.00"), "10.01"),
    (step("sum", [["1", "2"], ["3", "4"]], axis=0, result=[["4", "6"]]), [["3", "7"]]),
    (step("sum", [["1", "2"], ["3", "4"]], axis=1, result=col("3", "7")), col("4", "6")),
    (step("mean", [["1", "2"], ["3", "5"]], result="2.75"), "2.74"),
    (
        step("mean", [["1", "2"], ["3", "5"]], axis=1, result=col("1.50", "4.00")),
        col("1.50", "4.50"),
    ),
    (step("relu", col("-0.30", "0.20"), result=col("0", "0.20")), col("-0.30", "0.20")),
    (step("step", col("-0.30", "0.00", "0.20"), result=col("0", "0", "1")), col("1", "0", "1")),
    (step("identity", "0.37", result="0.37"), "0.40"),
    (step("leaky_relu", col("-2.00", "3.00"), result=col("-0.02", "3.00")), col("0", "3.00")),
    (step("exp", "1.00", result="2.72"), "2.60"),
    (step("log", "2.00", result="0.69"), "0.80"),
    (step("sqrt", "2.00", result="1.41"), "1.50"),
    (step("sigmoid", "0.50", result="0.62"), "0.63"),
    (step("tanh", "0.50", result="0.46"), "0.55"),
    (step("softplus", "0.00", result="0.69"), "0.80"),
    (
        step(
            "softmax",
            [["1.00", "2.00"], ["0.00", "0.50"]],
            result=[["0.73", "0.82"], ["0.27", "0.18"]],
        ),
        [["0.73", "0.82"], ["0.27", "0.19"]],
    ),
    (step("softmax", [["1.00", "0.00"]], axis=1, result=[["0.73", "0.27"]]), [["0.27", "0.73"]]),
    (step("max", col("1.50", "-2.00"), "0.5", result=col("1.50", "0.50")), col("1.50", "-2.00")),
    (step("min", col("1.50", "-2.00"), "0.5", result=col("0.50", "-2.00")), col("1.50", "-2.00")),
    (step("max", "0.10", "0.50", "-0.20", "0.30", result="0.50"), "0.30"),  # a pooling window
    (
        step(
            "maxpool",
            [["0.1", "0.5", "0.2"], ["-0.2", "0.3", "0.9"], ["0.4", "0", "0.6"]],
            size=2,
            stride=1,
            result=[["0.50", "0.90"], ["0.40", "0.90"]],
        ),
        [["0.50", "0.90"], ["0.40", "0.60"]],
    ),
    (
        step("avgpool", [["0.1", "0.5"], ["-0.2", "0.3"]], result=[["0.18"]]),
        [["0.30"]],
    ),
    (
        step("kron", [["1", "2"]], [["1"], ["1"]], result=[["1", "2"], ["1", "2"]]),
        [["1", "2"], ["2", "1"]],
    ),
    (
        step(
            "conv2d",
            [["1", "0", "2"], ["0", "1", "1"], ["2", "1", "0"]],
            [["1", "0"], ["0", "1"]],
            result=[["2", "1"], ["1", "1"]],
        ),
        [["2", "1"], ["1", "2"]],
    ),
    (  # two channels through one filter: each channel's correlation, added
        step(
            "conv2d",
            [[["1", "0"], ["0", "1"]], [["2", "1"], ["0", "0"]]],
            [[[["1", "1"], ["0", "1"]], [["1", "0"], ["0", "1"]]]],
            result=[[["4"]]],
        ),
        [[["3"]]],
    ),
    (
        step(
            "flatten", [[["1", "2"], ["3", "4"]], [["5", "6"], ["7", "8"]]], result=col(*"12345678")
        ),
        col(*"12345687"),
    ),
    (  # a bias's gradient: each channel's entries summed
        step(
            "mapsum",
            [[["1.5", "0.5"], ["0", "1"]], [["2", "-1"], ["0", "0"]]],
            result=col("3.0", "1.0"),
        ),
        col("3.0", "1.5"),
    ),
    (  # a per-channel batch norm's sum: each channel over the samples and the pixels
        step(
            "batchsum",
            [[[["1", "0.5"]], [["2", "0"]]], [[["-1", "0.5"]], [["0.5", "0.5"]]]],
            result=col("1.0", "3.0"),
        ),
        col("1.0", "2.5"),
    ),
    (  # ∂L/∂K for one filter and two channels, map by map
        {
            "target": "u",
            "expr": {
                "op": "stack",
                "grid": [1, 2],
                "args": [
                    {"op": "conv2d", "args": [[["1", "2"], ["3", "4"]], [["1"]]]},
                    {"op": "mul", "args": [[["1", "2"], ["3", "4"]], "2"]},
                ],
            },
            "result": [[[["1", "2"], ["3", "4"]], [["2", "4"], ["6", "8"]]]],
        },
        [[[["1", "2"], ["3", "4"]], [["2", "4"], ["6", "9"]]]],
    ),
]


def test_every_op_has_a_right_and_a_wrong_step():
    assert {s["expr"]["op"] for s, _ in RIGHT_AND_WRONG} == set(OPS)


@pytest.mark.parametrize(
    "right, wrong", RIGHT_AND_WRONG, ids=lambda x: x["expr"]["op"] if isinstance(x, dict) else ""
)
def test_right_steps_pass_and_wrong_ones_fail(right, wrong):
    digits = len(right["result"].partition(".")[2]) if isinstance(right["result"], str) else 2
    assert judge(right, digits, carry=True) is None
    assert judge(right, digits, carry=False) is None
    bad = dict(right, result=wrong)
    assert judge(bad, digits, carry=True) is not None
    assert judge(bad, digits, carry=False) is not None


def test_carried_rounding_message_and_ties():
    assert judge(step("mul", "3.53", "2.5", result="8.83"), 2, carry=True) is None  # 8.825
    assert judge(step("mul", "-3.53", "2.5", result="-8.83"), 2, carry=True) is None
    assert judge(step("mul", "3.53", "2.5", result="8.82"), 2, carry=True) == (
        "printed 8.82, but the printed numbers give 8.83 (8.825 rounded half-up to 2 decimals)"
    )


def test_a_missing_bracket_is_caught():
    # printed "−7.00² = 49.00" and encoded faithfully: −(7²) is −49
    wrong = step("neg", {"op": "pow", "args": ["7.00", "2"]}, result="49.00")
    assert judge(wrong, 2, carry=True) == (
        "printed 49.00, but the printed numbers give -49.00 (-49 rounded half-up to 2 decimals)"
    )
    assert judge(wrong, 2, carry=False) is not None


def test_uncarried_steps_allow_what_the_printed_numbers_rounding_allows():
    # 1.23 · 2.00 = 2.46, but 1.23 and 2.00 stand for [1.225, 1.235] and [1.995, 2.005]
    assert judge(step("mul", "1.23", "2.00", result="2.47"), 2, carry=False) is None
    assert judge(step("mul", "1.23", "2.00", result="2.47"), 2, carry=True) is not None
    assert judge(step("mul", "1.23", "2.00", result="2.49"), 2, carry=False) == (
        "printed 2.49 (from 2.485 to 2.495), but the printed numbers give 2.443875 to "
        "2.476175 (each number printed with 2 decimals within ±0.005)"
    )
    # a leaf with fewer decimals than the key's is exact: 1.2 · 2 = 2.4 only
    assert judge(step("mul", "1.2", "2", result="2.41"), 2, carry=False) is not None


def test_interval_edges():
    # an even power across 0 starts at 0
    assert judge(step("pow", "0.00", "2", result="0.00"), 2, carry=False) is None
    assert judge(step("pow", "0.00", "2", result="-0.01"), 2, carry=False) is not None
    # dividing by a number that may be 0 allows anything
    assert judge(step("div", "1", "0.00", result="123.45"), 2, carry=False) is None
    # matmul: each entry a sum of interval products
    assert (
        judge(
            step("matmul", [["1.00", "1.00"]], col("1.00", "1.00"), result="2.01"), 2, carry=False
        )
        is None
    )
    assert (
        judge(
            step("matmul", [["1.00", "1.00"]], col("1.00", "1.00"), result="2.03"), 2, carry=False
        )
        is not None
    )
    # a root of a printed 0.00 takes only the part of [-0.005, 0.005] where it is defined
    assert judge(step("pow", "0.00", "0.5", result="0.07"), 2, carry=False) is None
    assert judge(step("pow", "0.00", "0.5", result="0.08"), 2, carry=False) is not None
    assert judge(step("pow", "-1.00", "0.5", result="1.00"), 2, carry=False) == (
        "-0.995 to the power 0.5"
    )
    # softmax of unbounded inputs: anything in [0, 1]
    unbounded = {"op": "div", "args": [col("1", "2"), "0.00"]}
    assert judge(step("softmax", unbounded, result=col("0.99", "0.01")), 2, carry=False) is None
    # log near 0 reaches down without bound, never up
    assert judge(step("log", "0.00", result="-9.00"), 2, carry=False) is None
    assert judge(step("log", "0.00", result="0.00"), 2, carry=False) is not None


@pytest.mark.parametrize(
    "bad, message",
    [
        (
            step("frobnicate", "1", result="1"),
            "unknown op 'frobnicate' (expected one of: add, sub,",
        ),
        (step("add", "1", result="1"), "add takes 2 arguments in \"args\", found ['1']"),
        ({"expr": {"op": "neg", "args": ["1"]}}, 'a step needs "expr" and "result"'),
        (step("neg", "1;5", result="1"), "'1;5' is not a printed number"),  # 1,5 is a decimal comma
        (step("neg", 3, result="1"), "3 is neither a printed number nor a list of rows"),
        (step("neg", ["1", "2"], result="1"), "['1', '2'] is neither a printed number nor a list"),
        (
            step("neg", [["1", "2"], ["3"]], result="1"),
            "[['1', '2'], ['3']]: rows of different lengths",
        ),
        (step("sum", "1", axis=2, result="1"), "axis 2 (expected 0 or 1)"),
        (step("neg", "1", axis=0, result="1"), "neg does not take axis"),
        (
            step("add", col("1", "2"), col("1", "2", "3"), result="1"),
            "add of 2×1 and 3×1: the shapes",
        ),
        (
            step("matmul", col("1", "2"), col("1", "2"), result="1"),
            "matmul of 2×1 and 2×1: the inner",
        ),
        (step("div", "1", "0", result="1"), "division by 0"),
        (step("log", "-1", result="1"), "log of -1"),
        (step("sqrt", "-1", result="1"), "square root of -1"),
        (
            step("exp", {"op": "pow", "args": ["10", "400"]}, result="1"),
            "numbers too large to work out (OverflowError: ",
        ),
        (
            step("neg", col("1", "2"), result=col("1", "2", "3")),
            "printed result is 3×1, but the expression gives 2×1",
        ),
    ],
)
def test_malformed_steps_are_findings(bad, message):
    for carry in (True, False):
        assert judge(bad, 2, carry).startswith(message)


def test_wrong_entries_are_named():
    wrong = step("add", [["1", "2"], ["3", "4"]], "1", result=[["2", "3"], ["4", "6"]])
    assert judge(wrong, 2, carry=True) == (
        "entry [2,2]: printed 6.00, but the printed numbers give 5.00 (5 rounded half-up to "
        "2 decimals)"
    )
    wrong["result"] = [["2", "4"], ["4", "6"]]
    assert judge(wrong, 2, carry=True).endswith("(and 1 more wrong entries)")


# ---- property: exact rational expressions, printed half-up, always pass ---------------------

DIGITS = 2


def printed(x: Fraction, places: int) -> str:
    """x printed half-up with ``places`` decimals (Decimal's rounding, not the checker's)."""
    with localcontext() as ctx:
        ctx.prec = 60
        exact = Decimal(x.numerator) / Decimal(x.denominator)
        return format(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP), "f")


@st.composite
def numbers(draw, places_from=(0, 1, 2)):
    places = draw(st.sampled_from(places_from))
    text = printed(Fraction(draw(st.integers(-300, 300)), 10**places), places)
    return text, Fraction(text)


def shaped(f, value):
    """Apply f entry by entry to a scalar or a tuple of rows."""
    return f(value) if isinstance(value, Fraction) else tuple(tuple(f(x) for x in r) for r in value)


def pairwise(f, a, b):
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return f(a, b)
    rows = len(b) if isinstance(a, Fraction) else len(a)
    cols = len(b[0]) if isinstance(a, Fraction) else len(a[0])
    get = lambda v, i, j: v if isinstance(v, Fraction) else v[i][j]  # noqa: E731
    return tuple(tuple(f(get(a, i, j), get(b, i, j)) for j in range(cols)) for i in range(rows))


@st.composite
def expressions(draw, shape=None, depth=2, places_from=(0, 1, 2)):
    """(tree, exact value) with value a Fraction (shape None) or a tuple of rows."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        if shape is None:
            return draw(numbers(places_from))
        cells = [[draw(numbers(places_from)) for _ in range(shape[1])] for _ in range(shape[0])]
        return [[t for t, _ in r] for r in cells], tuple(tuple(v for _, v in r) for r in cells)
    sub = lambda s=shape: expressions(s, depth - 1, places_from)  # noqa: E731
    choices = ["add", "sub", "mul", "div", "neg", "pow", "relu", "step", "leaky_relu", "identity"]
    if shape is None:
        choices += ["sum", "mean"]
    else:
        choices += ["matmul", "transpose"] + (["sum0", "mean0"] if shape[0] == 1 else [])
    op = draw(st.sampled_from(choices))
    if op in ("add", "sub", "mul"):
        (ta, a), (tb, b) = draw(sub()), draw(sub(draw(st.sampled_from([shape, None]))))
        f = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y}[op]
        return {"op": op, "args": [ta, tb]}, pairwise(f, a, b)
    if op == "div":
        (ta, a), (tb, b) = draw(sub()), draw(sub(None))
        assume(b != 0)
        return {"op": op, "args": [ta, tb]}, pairwise(lambda x, y: x / y, a, b)
    if op == "pow":
        (ta, a), n = draw(sub()), draw(st.integers(0, 3))
        return {"op": op, "args": [ta, str(n)]}, shaped(lambda x: x**n, a)
    if op in ("neg", "relu", "step", "leaky_relu", "identity"):
        ta, a = draw(sub())
        f = {
            "neg": lambda x: -x,
            "relu": lambda x: max(x, Fraction(0)),
            "step": lambda x: Fraction(int(x > 0)),
            "identity": lambda x: x,
            "leaky_relu": lambda x: x if x > 0 else x / 100,
        }[op]
        return {"op": op, "args": [ta]}, shaped(f, a)
    if op in ("sum", "mean"):
        rows, cols = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        ta, a = draw(sub((rows, cols)))
        total = sum(x for r in a for x in r)
        return {"op": op, "args": [ta]}, total if op == "sum" else total / (rows * cols)
    if op in ("sum0", "mean0"):
        rows = draw(st.integers(1, 3))
        ta, a = draw(sub((rows, shape[1])))
        sums = tuple(sum(r[j] for r in a) for j in range(shape[1]))
        scale = 1 if op == "sum0" else Fraction(1, rows)
        return {"op": op[:-1], "args": [ta], "axis": 0}, (tuple(s * scale for s in sums),)
    if op == "transpose":
        ta, a = draw(sub((shape[1], shape[0])))
        return {"op": op, "args": [ta]}, tuple(zip(*a))
    inner = draw(st.integers(1, 3))
    (ta, a), (tb, b) = draw(sub((shape[0], inner))), draw(sub((inner, shape[1])))
    return (
        {"op": "matmul", "args": [ta, tb]},
        tuple(
            tuple(sum(a[i][k] * b[k][j] for k in range(inner)) for j in range(shape[1]))
            for i in range(shape[0])
        ),
    )


@st.composite
def steps(draw):
    shape = draw(st.sampled_from([None, (1, 1), (2, 1), (1, 2), (2, 2)]))
    tree, value = draw(expressions(shape))
    result = shaped(lambda x: printed(x, DIGITS), value)
    result = result if isinstance(result, str) else [list(r) for r in result]
    return {"target": "u", "expr": tree, "result": result}


@settings(max_examples=150, deadline=None)
@given(steps(), st.data())
def test_exact_values_printed_half_up_pass_and_a_changed_last_digit_fails(right, data):
    assert judge(right, DIGITS, carry=True) is None
    wrong = dict(right)
    unit = Fraction(data.draw(st.sampled_from([-1, 1])), 10**DIGITS)
    if isinstance(right["result"], str):
        wrong["result"] = printed(Fraction(right["result"]) + unit, DIGITS)
    else:
        rows = [list(r) for r in right["result"]]
        i = data.draw(st.integers(0, len(rows) - 1))
        j = data.draw(st.integers(0, len(rows[0]) - 1))
        rows[i][j] = printed(Fraction(rows[i][j]) + unit, DIGITS)
        wrong["result"] = rows
    assert judge(wrong, DIGITS, carry=True) is not None


def rounded_leaves(tree):
    """The tree as the key prints it: every number with DIGITS decimals, half-up (pow's
    exponent stays an integer)."""
    if isinstance(tree, str):
        return printed(Fraction(tree), DIGITS)
    if isinstance(tree, list):
        return [rounded_leaves(row) for row in tree]
    args = [rounded_leaves(a) for a in tree["args"]]
    if tree["op"] == "pow":
        args[1] = tree["args"][1]
    return dict(tree, args=args)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([None, (1, 1), (2, 1), (1, 2), (2, 2)]), st.data())
def test_uncarried_intervals_contain_every_value_the_printed_numbers_could_stand_for(shape, data):
    """Soundness: true values with 3–4 decimals, printed rounded to 2: the interval worked
    out from the printed numbers holds the true value, and the true value printed passes."""
    tree, value = data.draw(expressions(shape, places_from=(3, 4)))
    shown = rounded_leaves(tree)
    half = Fraction(1, 2 * 10**DIGITS)
    got = evaluate(shown, lambda t: Interval(Fraction(t) - half, Fraction(t) + half))
    truth = [value] if isinstance(value, Fraction) else [x for row in value for x in row]
    for span, true in zip(got.reshape(-1), truth):
        span = interval(span)
        assert span.lo <= true <= span.hi
    result = shaped(lambda x: printed(x, DIGITS), value)
    step = {
        "target": "u",
        "expr": shown,
        "result": result if isinstance(result, str) else [list(r) for r in result],
    }
    assert judge(step, DIGITS, carry=False) is None


def test_interval_powers_and_quotients():
    F = Fraction
    assert Interval(F(-1, 2), F(1, 4)).power(2) == Interval(0, F(1, 4))
    assert Interval(F(-1, 2), F(-1, 4)).power(2) == Interval(F(1, 16), F(1, 4))
    assert Interval(F(-1, 2), F(1, 4)).power(3) == Interval(F(-1, 8), F(1, 64))
    assert Interval(F(1, 4), F(1, 2)).power(-1) == Interval(2, 4)
    assert Interval(F(-1, 4), F(1, 2)).power(-2) == Interval(-math.inf, math.inf)
    assert Interval(F(1), F(2)) / Interval(F(-1), F(1)) == Interval(-math.inf, math.inf)
    assert Interval(F(0), F(0)) * Interval(-math.inf, math.inf) == Interval(0, 0)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-5, 5), st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=4)
)
def test_softmax_intervals_hold_the_softmax_of_any_point_inside(entries):
    spans = [Interval(c - w, c + w) for c, w, _ in entries]
    points = [c - w + 2 * w * t for c, w, t in entries]
    top = max(points)
    e = [math.exp(p - top) for p in points]
    for span, p in zip(softmax(spans), (x / sum(e) for x in e)):
        assert span.lo - 1e-12 <= p <= span.hi + 1e-12


JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from(["0", "-1.5", "2.00", "1e3", "x", "", "400.5", "-0.00", "10", "400"]),
)
JSON_TREES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.fixed_dictionaries(
            {"op": st.sampled_from([*OPS, "nope", 3]), "args": st.lists(inner, max_size=3)},
            optional={"axis": st.sampled_from([0, 1, 2, None, "0"])},
        ),
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(JSON_TREES, JSON_TREES, st.booleans())
def test_any_json_is_judged_never_a_crash(expr, result, carry):
    outcome = judge({"target": "u", "expr": expr, "result": result}, 2, carry)
    assert outcome is None or isinstance(outcome, str)


def test_flatten_of_a_scalar_is_judged_not_a_crash():
    # found by test_any_json_is_judged_never_a_crash: flatten takes a map, image or batch
    step = {"target": "u", "expr": {"op": "flatten", "args": ["0"]}, "result": "0"}
    assert judge(step, 2, False) == "flatten of a scalar (expected a map, an image or a batch)"
