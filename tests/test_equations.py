import pytest

from exgen.engine.equations import EquationError, parse_equation


def test_parses_names_numbers_and_functions():
    eq = parse_equation("net_h = sigmoid(W1.T @ x + -b) ** 2 / 4")
    assert eq.target == "net_h"
    assert eq.expr.names() == ["W1", "x", "b"]
    assert eq.expr.op == "div"


@pytest.mark.parametrize(
    "text, message",
    [
        ("x = open('f')", "unknown function 'open'"),
        ("x = a[0]", "'a[0]' is not allowed"),
        ("x = [i for i in y]", "is not allowed"),
        ("x = f'{a}'", "is not allowed"),
        ("x = (y := 3)", "is not allowed"),
        ("x = a.shape", "only '.T'"),
        ("x = relu(a, b)", "relu() takes exactly one argument"),
        ("x = relu(a=b)", "relu() takes exactly one argument"),
        ("x = relu(a, axis=1)", "relu() takes no keywords"),
        ("x = sum(a, axis=b)", "axis= takes a number in sum()"),
        ("x = 'text'", "only numbers may appear as constants"),
        ("x = True", "only numbers may appear as constants"),
        ("x = a % b", "is not allowed"),
        ("x, y = a", "the left side must be a single name"),
        ("relu = a", "'relu' is a function name"),
        ("x = relu", "'relu' is a function; call it as relu(...)"),
        ("_x = a", "may not start with '_'"),
        ("x = 1j", "only numbers may appear as constants"),
        ("x = a ** b", "must be a number"),
        ("u1 = W1 @", "not a valid equation"),
    ],
)
def test_refuses_everything_outside_the_whitelist(text, message):
    with pytest.raises(EquationError, match=None) as info:
        parse_equation(text)
    assert message in str(info.value)
