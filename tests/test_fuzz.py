"""Property-based fuzzing of the input boundary: the shipped definitions, mutated (keys
deleted, types swapped, huge, non-finite and negative numbers, odd strings, deep nesting,
odd variant rules and template paths, byte damage of the file text), through
`exgen build --no-pdf` (and a class build when the sheet has variants) and
`exgen check --no-torch`.

Whatever the input: the exit status is 0 or a documented one (2 bad input, 3 output,
4 failed check), never a traceback; nothing outside the out folder is touched; a
failed build leaves the earlier output as it was; no hidden staging folder is left.

The CI profile runs 60 derandomized examples. `EXGEN_FUZZ=long` runs 5,000 (or
EXGEN_FUZZ_EXAMPLES) and goes on past a finding: each failing case is saved under
EXGEN_FUZZ_CASES (and a key that `exgen check` rejects under its check-failed/), and the
last test lists them all. EXGEN_FUZZ_LOG appends one line a run (sheet, command, status,
message). For example:

    EXGEN_FUZZ=long EXGEN_FUZZ_LOG=/tmp/fuzz.log EXGEN_FUZZ_CASES=/tmp/fuzz-cases \
        nohup python3 -m pytest -q -p no:cacheprovider tests/test_fuzz.py &
"""

from __future__ import annotations

import copy
import hashlib
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exgen.cli import main

SHIPPED = Path(__file__).parent.parent / "exercises"
SHEETS = sorted(p.name for p in SHIPPED.glob("*.yaml"))
DOCUMENTED = {0, 2, 3, 4}  # ok, bad input, output, failed check (exgen/errors.py)

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)
settings.register_profile(
    "long",
    max_examples=int(os.environ.get("EXGEN_FUZZ_EXAMPLES", 5000)),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)
PROFILE = "long" if os.environ.get("EXGEN_FUZZ") == "long" else "ci"

NUMBERS = [
    0,
    -1,
    1,
    3,
    2**31,
    2**64,
    10**40,
    -(10**16),
    1e15,
    1e16,
    1e22,
    1e300,
    -1e-200,
    1e-200,
    5e-324,
    float("inf"),
    float("-inf"),
    float("nan"),
    0.5,
    -0.25,
    100000,
]
STRINGS = [
    "",
    " ",
    "x",
    "1e-3",
    "0x1",
    "-",
    "../../escape",
    "/",
    "/dev/zero",
    "x" * 5000,
    "é\u202e",
    "{{ 7 * 7 }}",
    "$" + "{" * 40 + "x" + "}" * 40 + "$",
    "$" + "\\frac{1}{" * 40 + "x" + "}" * 40 + "$",
    "2024-02-30",
    "W1",
    "relu",
    "\t",
    "![](http://127.0.0.1:9/x.png)",
    "<script>alert(1)</script>",
    "a" * 41,
]
ODD = (
    NUMBERS
    + STRINGS
    + [
        None,
        True,
        False,
        [],
        {},
        [1],
        [[1, 2], [3]],
        [[[1]]],
        {"a": 1},
        [float("nan")],
        [[1e300, 1], [1, 1]],
        list(range(200)),
    ]
)
EQUATIONS = [
    "y = u ** 100000000",
    "y = (W1 @ x) ** 5000",
    "y = 0x1 * x",
    "y = 0b1 * x",
    "y = 1_000 * x",
    "y = x * 1e309",
    "y = exp(x) * 1e15",
    "y = " + "-" * 5000 + "x",
    "y = " + " + ".join(["x"] * 300),
    "y = __import__('os').system('echo hi')",
    "y = x.__class__",
    "y = (lambda: 1)()",
    "y = x if x else x",
    "y = x[0]",
    "y = exp(exp(exp(x)))",
    "y = log(x - x)",
    "y = x / (x - x)",
    "y = sigmoid(-1000 * x)",
    "y = x ** -64",
    "y = x ** 0.5",
    "y = sum(x) ** 64 ** 2",
    "y = softmax(x.T @ x)",
    "L = sum(y) ** 64",
    "y = 1e-200 * x * 1e-200",
    "y = x @ x @ x @ x",
    "y = mean(x)",
    "y = x; import os",
    "y = 1j * x",
    "y = 'a'",
    "y = x ==  x",
    "= x",
    "y =",
    "",
]
VARIANT_RULES = [
    {"integers": [0, 10]},
    {"integers": [10, 0]},
    {"integers": [-(10**16), 1]},
    {"grid": [0, float("inf"), 1]},
    {"grid": [float("nan"), 1, 0.5]},
    {"grid": [0, 1, 0]},
    {"grid": [0, 1e15, 1e-15]},
    {"choice": [float("nan")]},
    {"choice": []},
    {"choice": [1, 2, 3]},
    {"one_of": [[1, 2]]},
    {"one_of": [1]},
    {"integers": [0, 1], "grid": [0, 1, 0.5]},
    {},
    {"integers": "0..1"},
]
REQUIRES = [
    "no_relu_at_zero",
    "some_relu_inactive",
    "no_dead_layer",
    "grads_visible",
    "no_saturation",
    {"max_abs": 1e-7},
    {"max_abs": float("nan")},
    "nonsense",
    {"a": 1, "b": 2},
]
TEMPLATES = [
    "/",
    "..",
    ".",
    "/dev/null",
    "x" * 5000,
    "/usr/share",
    "../outside",
    "nosuch",
    "/proc/self",
    "\x00",
]
SNIPPETS = [
    "2024-02-30",
    "!!float abc ",
    "!!python/object:os.system ",
    "!foo ",
    "&a ",
    "*a ",
    "\x00",
    "\x1b",
    "\ufffe",
    "1e-3",
    "0x1",
    "1_000",
    "9" * 5000,
    "[" * 50,
    "{",
    "}",
    "\t",
    ": ",
    "- ",
    "\n",
    "'",
    '"',
    "\\",
    "#",
    "\n  dup: 1\n  dup: 2\n",
    "<<: {a: 1}",
    "? [1, 2]\n: 3\n",
    "---\n",
    "...\n",
    "%YAML 1.1\n",
    "!!binary abc ",
    "!!set {a}",
    "!!timestamp 2024-02-30 ",
    ".inf",
    ".nan",
    "-.inf",
    "1.0e+400",
    "1e309",
]


class _NoAliases(yaml.SafeDumper):
    """Writes a value used twice out twice (exgen refuses aliases, rightly)."""

    def ignore_aliases(self, data):
        return True


def _paths(node, path=()):
    """Every key path into a parsed document, in document order."""
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, path + (i,))


def _get(doc, path):
    for part in path:
        doc = doc[part]
    return doc


def _deep(depth: int):
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


@st.composite
def mutated_definition(draw):
    """(file name, file text) of a shipped definition after a few mutations."""
    name = draw(st.sampled_from(SHEETS))
    text = (SHIPPED / name).read_text()
    doc = yaml.safe_load(text)
    data_mutations = draw(st.sampled_from([0, 1, 1, 1, 2, 2, 3]))
    for _ in range(data_mutations):
        paths = list(_paths(doc))
        if len(paths) < 2:
            break
        path = draw(st.sampled_from(paths[1:]))
        parent, key = _get(doc, path[:-1]), path[-1]
        kind = draw(
            st.sampled_from(
                ["delete", "odd", "swap", "equation", "deep", "variants", "templates", "number"]
            )
        )
        if kind == "delete":
            del parent[key]
        elif kind == "odd":
            parent[key] = copy.deepcopy(draw(st.sampled_from(ODD)))
        elif kind == "number":
            parent[key] = draw(
                st.sampled_from(NUMBERS)
                | st.floats(allow_nan=True)
                | st.integers(-(10**20), 10**20)
            )
        elif kind == "swap":
            value = parent[key]
            parent[key] = copy.deepcopy(
                draw(st.sampled_from([[value], {"k": value}, str(value)[:100], None]))
            )
        elif kind == "equation":
            equations = [p for p in paths if len(p) > 1 and p[-2] == "equations"]
            if equations:
                target = draw(st.sampled_from(equations))
                _get(doc, target[:-1])[target[-1]] = draw(st.sampled_from(EQUATIONS))
        elif kind == "deep":
            parent[key] = _deep(draw(st.sampled_from([31, 33, 100])))
        elif kind == "variants":
            rules = draw(
                st.lists(
                    st.tuples(
                        st.sampled_from(
                            ["q3.W3", "W1", "x", "q1.b1", "nosuch", "backprop.W1", "t1.W1"]
                        ),
                        st.sampled_from(VARIANT_RULES),
                    ),
                    min_size=0,
                    max_size=3,
                )
            )
            doc["variants"] = {
                "seed": draw(st.sampled_from(["s", "", "x" * 300])),
                "draw": copy.deepcopy(dict(rules)),
                "require": draw(st.lists(st.sampled_from(REQUIRES), max_size=3)),
                "tries": draw(st.sampled_from([1, 5, 0, -1, 10**6, 100000, 1.5])),
            }
        else:
            doc["templates"] = draw(st.sampled_from(TEMPLATES))
        if not isinstance(doc, dict):
            break
    text = (
        yaml.dump(doc, Dumper=_NoAliases, allow_unicode=True, sort_keys=False, width=10**6)
        if data_mutations
        else text
    )
    text_mutations = draw(
        st.sampled_from([0, 0, 0, 0, 0, 0, 1, 2] if data_mutations else [1, 2, 3])
    )
    for _ in range(text_mutations):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "replace", "delete", "line"]))
        if kind == "insert":
            text = text[:at] + draw(st.sampled_from(SNIPPETS)) + text[at:]
        elif kind == "replace":
            text = (
                text[:at] + draw(st.sampled_from(SNIPPETS)) + text[at + draw(st.integers(1, 20)) :]
            )
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 200)) :]
        else:  # a line doubled: duplicate keys, duplicate list items
            lines = text.split("\n")
            k = at % max(1, len(lines))
            lines.insert(k, lines[k])
            text = "\n".join(lines)
    raw = text.encode("utf-8", "surrogatepass")
    if raw and draw(st.integers(0, 7)) == 0:  # a few damaged bytes: invalid UTF-8, NUL, …
        for _ in range(draw(st.integers(1, 3))):
            at = draw(st.integers(0, len(raw) - 1))
            raw = raw[:at] + bytes([draw(st.integers(0, 255))]) + raw[at + 1 :]
    return name, raw


def _snapshot(root: Path, skip: str | None = None) -> dict:
    """Every path under root with its kind and content digest (skipping one top entry)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root)
        if skip is not None and rel == Path("."):
            dirnames[:] = [d for d in dirnames if d != skip]
        for d in dirnames:
            out[str(rel / d)] = "dir"
        for f in filenames:
            p = Path(dirpath) / f
            out[str(rel / f)] = (
                hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "other"
            )
    return out


_EARLIER: dict[str, Path] = {}


def _earlier_output(name: str) -> Path:
    """A good build of the unmutated sheet (made once), the output a failed build must keep."""
    if name not in _EARLIER:
        folder = Path(tempfile.mkdtemp(prefix="exgen-fuzz-earlier-"))
        result = CliRunner().invoke(
            main, ["build", str(SHIPPED / name), "--no-pdf", "--out", str(folder / "out")]
        )
        assert result.exit_code == 0, result.output
        _EARLIER[name] = folder / "out"
    return _EARLIER[name]


@contextmanager
def _inside(folder: Path):
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def _staging_left(out: Path) -> list[Path]:
    """Hidden folders beside outputs (.NAME.new-…, .NAME.old-…); the .exgen marker files
    inside an output are exgen's own."""
    return [p for p in out.rglob(".*") if p.is_dir()]


def _log(name: str, what: str, result) -> None:
    """With EXGEN_FUZZ_LOG set, one line a run: what ran, its status, its message."""
    if os.environ.get("EXGEN_FUZZ_LOG"):
        message = (result.output.strip().splitlines() or [""])[-1][:300]
        with open(os.environ["EXGEN_FUZZ_LOG"], "a") as log:
            log.write(f"{name}\t{what}\t{result.exit_code}\t{message}\n")


def _assert_clean(result, what: str) -> None:
    assert result.exit_code in DOCUMENTED, (what, result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        what,
        repr(result.exception),
    )
    assert "Traceback" not in result.output, (what, result.output)


def _run_one(name: str, raw: bytes) -> None:
    earlier = _earlier_output(name)
    with tempfile.TemporaryDirectory(prefix="exgen-fuzz-") as tmp, _inside(Path(tmp)):
        root = Path(tmp)
        (root / "defs").mkdir()
        (root / "outside").mkdir()
        (root / "outside" / "precious.txt").write_text("not exgen's")
        definition = root / "defs" / name
        definition.write_bytes(raw)
        shutil.copytree(earlier, root / "out")
        outside, before = _snapshot(root, skip="out"), _snapshot(root / "out")
        runner = CliRunner()
        result = runner.invoke(main, ["build", f"defs/{name}", "--no-pdf", "--out", "out"])
        _log(name, "build", result)
        _assert_clean(result, "build")
        assert _snapshot(root, skip="out") == outside, "build touched files outside out/"
        if result.exit_code != 0:
            assert _snapshot(root / "out") == before, "a failed build changed the earlier output"
        assert not _staging_left(root / "out"), "a staging folder was left behind"
        if result.exit_code == 0 and b"variants:" in raw:
            before = _snapshot(root / "out")
            result = runner.invoke(
                main,
                [
                    "build",
                    f"defs/{name}",
                    "--no-pdf",
                    "--out",
                    "out",
                    "--variants",
                    "2",
                    "--jobs",
                    "1",
                ],
            )
            _log(name, "class", result)
            _assert_clean(result, "class build")
            assert _snapshot(root, skip="out") == outside, "class build touched files outside out/"
            if result.exit_code != 0:
                assert _snapshot(root / "out") == before, "a failed class build changed the output"
            assert not _staging_left(root / "out"), "class build left a staging folder"
        everything = _snapshot(root)
        result = runner.invoke(main, ["check", f"defs/{name}", "--no-torch"])
        _log(name, "check", result)
        if result.exit_code == 4 and os.environ.get("EXGEN_FUZZ_CASES"):  # a key to look at
            keep = Path(os.environ["EXGEN_FUZZ_CASES"]) / "check-failed"
            keep.mkdir(parents=True, exist_ok=True)
            (keep / f"{hashlib.sha256(raw).hexdigest()[:12]}-{name}").write_bytes(raw)
        _assert_clean(result, "check")
        assert _snapshot(root) == everything, "check wrote files"


FINDINGS: list[str] = []  # the long run records what it finds and goes on


@pytest.mark.slow
@settings(settings.get_profile(PROFILE))
@given(mutated_definition())
def test_mutated_definitions_fail_cleanly(case):
    name, raw = case
    if PROFILE != "long":
        _run_one(name, raw)
        return
    try:
        _run_one(name, raw)
    except Exception as exc:  # recorded, then reported by the test below
        digest = hashlib.sha256(raw).hexdigest()[:12]
        folder = Path(os.environ.get("EXGEN_FUZZ_CASES", tempfile.gettempdir()))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{digest}-{name}").write_bytes(raw)
        FINDINGS.append(
            f"{digest}-{name}: {str(exc).splitlines()[0][:300] if str(exc) else repr(exc)}"
        )
        _log(name, "FINDING", type("R", (), {"exit_code": -1, "output": FINDINGS[-1]})())


@pytest.mark.skipif(PROFILE != "long", reason="the long run only (EXGEN_FUZZ=long)")
def test_the_long_run_found_nothing():
    assert not FINDINGS, "\n".join(FINDINGS)


@pytest.mark.parametrize("name", SHEETS)
def test_the_fuzzer_starts_from_sheets_that_build(name):
    """The unmutated sheets build: the fuzzer's earlier outputs are real ones."""
    assert (_earlier_output(name) / Path(name).stem / "key.json").is_file()
