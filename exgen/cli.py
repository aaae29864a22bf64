"""The command line: a few lines over build and check."""

from __future__ import annotations

import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import click

from exgen import __version__
from exgen.build.single import build as run_build
from exgen.errors import (
    ArgumentError,
    CheckFailed,
    ExgenError,
    Terminated,
    exit_code_for,
    printable,
)


def _fail(exc: ExgenError):
    sys.stdout.flush()
    click.echo(f"error: {printable(exc)}", err=True)
    sys.exit(exit_code_for(exc))


def _out_option(help: str):
    """--out: the folder that holds (or receives) the sheet's output folder."""
    return click.option(
        "--out",
        "out_dir",
        default="out",
        show_default=True,
        type=click.Path(file_okay=False),
        help=help,
    )


@click.group()
@click.version_option(__version__, prog_name="exgen")
def main():
    """exgen: backpropagation homework sheets and worked, verified keys."""


@main.command()
@click.argument("sheet")
@_out_option("Folder that receives SHEET's output folder.")
@click.option("--no-pdf", is_flag=True, help="Write HTML and key.json only.")
@click.option("--variants", type=click.IntRange(1, 10_000), help="One variant per student 001…N.")
@click.option(
    "--roster", type=click.Path(dir_okay=False), help="CSV with an id (and a name) column."
)
@click.option("--student", help="Only this student's variant (the same numbers as in the class).")
@click.option("--seed", help="Use this secret instead of the sheet's variants seed.")
@click.option("--jobs", type=click.IntRange(1, 256), help="Parallel workers (default: all cores).")
@click.option(
    "--shard",
    metavar="K/N",
    help="Only every N-th student from the K-th, into out/SHEET/shards/K-of-N (see merge).",
)
def build(sheet, out_dir, no_pdf, variants, roster, student, seed, jobs, shard):
    """Build SHEET (a name under exercises/ or a path to a .yaml file)."""
    from exgen.build.classset import build_class
    from exgen.build.roster import check_utf8, numbered, read_roster
    from exgen.build.shards import parse_shard, shard_students

    with _Progress(sheet) as progress, _stopped_by_signals(), _reported(progress):
        check_utf8("--seed", seed)
        if roster and variants:
            raise ArgumentError("give --roster or --variants, not both")
        if shard is not None:
            shard = parse_shard(shard)
            if student:
                raise ArgumentError("give --shard or --student, not both")
            if not (roster or variants):
                raise ArgumentError("--shard splits a class: give --variants or --roster too")
        if variants or roster or student:
            students = read_roster(roster) if roster else numbered(variants) if variants else None
            source = (
                f"the roster {roster}"
                if roster
                else f"--variants {variants} ({students[0].id}…{students[-1].id})"
                if variants
                else ""
            )
            target = build_class(
                sheet,
                Path(out_dir),
                students,
                pdf=not no_pdf,
                jobs=jobs,
                secret=seed,
                only=student,
                source=source,
                progress=progress,
                shard=shard,
            )
            progress.close()
            if shard:
                count = len(shard_students(students, *shard))
                click.echo(
                    f"built {printable(target)}/ for {count} of {len(students)} students "
                    f"(shard {shard[0]} of {shard[1]})"
                )
                return
            count = 1 if student else len(students)
            click.echo(f"built {printable(target)}/ for {count} student{'' if count == 1 else 's'}")
            return
        result = run_build(sheet, Path(out_dir), pdf=not no_pdf, progress=progress)
    click.echo(f"built {printable(result.target)}/: {', '.join(result.files)}")


@main.command()
@click.argument("sheet")
@_out_option("Folder that holds SHEET's output folder (and in it shards/).")
def merge(sheet, out_dir):
    """Join the shard folders under OUT/SHEET/shards/ (exgen build … --shard K/N) into
    the class OUT/SHEET/, the same as one build of the whole class."""
    from exgen.build.merge import merge_class

    with _Progress(sheet) as progress, _stopped_by_signals(), _reported(progress):
        target, shards, count = merge_class(sheet, Path(out_dir), progress)
    click.echo(f"merged {shards} shards into {printable(target)}/ for {count} students")


@main.command()
@click.argument("sheet")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
def serve(sheet, port):
    """Serve SHEET's sheet.html and key.html on http://127.0.0.1:PORT/, rebuilt and
    reloaded in the browser whenever the definition, its images or templates change.
    Writes no files; Ctrl-C stops it."""
    from exgen.serve.live import serve as run_serve

    with _Progress(sheet) as progress, _stopped_by_signals(), _reported(progress):
        try:
            run_serve(sheet, port, lambda line, err: click.echo(printable(line), err=err))
        except KeyboardInterrupt:  # Ctrl-C is how a server is meant to stop
            click.echo("stopped", err=True)


def _built_class(command):
    """--variants, --roster and --seed: the class as it was built (none: the build's own)."""
    command = click.option("--seed", help="The secret the class was built with.")(command)
    command = click.option(
        "--roster", type=click.Path(dir_okay=False), help="CSV with an id (and a name) column."
    )(command)
    return click.option(
        "--variants", type=click.IntRange(1, 10_000), help="The class 001…N, as built."
    )(command)


def _class_students(roster, variants, seed):
    """The students --roster or --variants name (None: neither given)."""
    from exgen.build.roster import check_utf8, numbered, read_roster

    check_utf8("--seed", seed)
    if roster and variants:
        raise ArgumentError("give --roster or --variants, not both")
    return read_roster(roster) if roster else numbered(variants) if variants else None


@main.command()
@click.argument("sheet")
@click.option(
    "--answers",
    "answers",
    required=True,
    multiple=True,
    type=click.Path(dir_okay=False),
    help="The students' answers: a CSV headed like answer-form.csv, Moodle's quiz "
    "Responses report, or Canvas's Student Analysis (one --answers per quiz).",
)
@_out_option("Folder that holds SHEET's output folder; the grades go to OUT/SHEET/grades/.")
@_built_class
@click.option("--lenient", is_flag=True, help="Grade the rest when a cell is not a number.")
@click.option("--no-pdf", is_flag=True, help="No feedback PDFs.")
def grade(sheet, answers, out_dir, variants, roster, seed, lenient, no_pdf):
    """Grade every student's answers against their own variant, with error carried
    forward; without --variants or --roster, the class of OUT/SHEET/manifest.json. From a
    platform's report, each attempt against the variants its questions name."""
    from exgen.grading.grade import grade_sheet
    from exgen.lms.grade_responses import FORM, grade_responses, report_kind

    with _Progress(sheet) as progress, _stopped_by_signals(), _reported(progress):
        students = _class_students(roster, variants, seed)
        paths = [Path(a) for a in answers]
        kinds = {p: report_kind(p) for p in paths}
        if len(set(kinds.values())) > 1:
            raise ArgumentError(
                "give one kind of answers file: "
                + ", ".join(f"{p} is {k}" for p, k in kinds.items())
            )
        kind = kinds[paths[0]]
        if kind == FORM and len(paths) > 1:
            raise ArgumentError("give the class's answer form as one file")
        options = dict(secret=seed, lenient=lenient, pdf=not no_pdf, progress=progress)
        run = (
            grade_sheet(sheet, Path(out_dir), paths[0], students, **options)
            if kind == FORM
            else grade_responses(sheet, Path(out_dir), paths, kind, students, **options)
        )
        progress.close()
    for problem in run.answers.problems:
        click.echo(f"unreadable: {printable(problem)}", err=True)
    count = len(run.grades)
    click.echo(
        f"graded {count} student{'' if count == 1 else 's'} into {printable(run.target)}/"
        + (f" ({len(run.without_row)} without a row: not answered)" if run.without_row else "")
        + (
            f" ({run.superseded} earlier attempt{'' if run.superseded == 1 else 's'} "
            "not graded: each person's last counts)"
            if run.superseded
            else ""
        )
        + (f"; {len(run.answers.problems)} cells unreadable" if run.answers.problems else "")
    )


@main.command()
@click.argument("sheet")
@click.option(
    "--to",
    "to",
    required=True,
    type=click.Choice(["moodle", "qti"]),
    help="moodle: Moodle XML (cloze questions); qti: a QTI 1.2 package for Canvas.",
)
@_out_option("Folder that holds SHEET's output folder; the file goes to OUT/SHEET/.")
@_built_class
def export(sheet, to, out_dir, variants, roster, seed):
    """Write every student's variant of SHEET as quiz questions for a learning platform:
    OUT/SHEET/moodle.xml or OUT/SHEET/qti.zip; without --variants or --roster, the class
    of OUT/SHEET/manifest.json."""
    from exgen.lms.export import export_sheet

    with _Progress(sheet) as progress, _stopped_by_signals(), _reported(progress):
        students = _class_students(roster, variants, seed)
        done = export_sheet(sheet, Path(out_dir), to, students, seed, progress)
        progress.close()
    click.echo(
        f"exported {done.variants} variant{'' if done.variants == 1 else 's'} "
        f"({done.questions} questions) to {printable(done.path)}"
    )


@main.command()
def schema():
    """Print the JSON Schema of a definition file (schema/exgen.schema.json), for editors."""
    from exgen.define.json_schema import schema_text

    click.echo(schema_text(), nl=False)


def _starters() -> str:
    from exgen.define.starters import starters

    return ", ".join(starters())


@main.command(
    help="Write exercises/NAME.yaml, a commented definition that builds at once, from a "
    f"starter ({_starters()}; default mlp). Never overwrites a file."
)
@click.argument("name")
@click.option("--from", "kind", default="mlp", metavar="STARTER", help=f"One of: {_starters()}.")
def new(name, kind):
    from exgen.define.starters import write_schema, write_starter

    try:
        shown = write_starter(name, kind, Path.cwd())
        schema = write_schema(Path.cwd())
    except ExgenError as exc:
        _fail(exc)
    also = f" and {schema} (for editors)" if schema else ""
    click.echo(
        f"wrote {printable(shown)} (from the {kind} starter){also}; build it with: exgen build {name}"
    )


@contextmanager
def _reported(progress):
    """A failure or an interrupt as one line and its exit status, the status line erased."""
    try:
        yield
    except ExgenError as exc:
        progress.close()
        _fail(exc)
    except (KeyboardInterrupt, Terminated) as exc:
        progress.close()
        click.echo("interrupted" if isinstance(exc, KeyboardInterrupt) else "terminated", err=True)
        sys.exit(exit_code_for(exc))


@contextmanager
def _stopped_by_signals():
    """SIGTERM unwinds like Ctrl-C, so that the staging folder goes either way."""

    def terminated(signum, frame):
        raise Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, terminated)
        installed = True
    except ValueError:  # not the main thread: leave signals alone
        installed = False
    try:
        yield
    finally:
        if installed:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


class _Progress:
    """One self-erasing status line on a terminal: `sheet9: laying out key.pdf (1.2 s)`."""

    def __init__(self, name: str):
        self.name = name
        self.live = sys.stderr.isatty()
        self.start = time.perf_counter()

    def __call__(self, step: str) -> None:
        if self.live:
            elapsed = time.perf_counter() - self.start
            click.echo(f"\r\033[K{self.name}: {step} ({elapsed:.1f} s)", err=True, nl=False)

    def close(self) -> None:
        if self.live:
            click.echo("\r\033[K", err=True, nl=False)
            self.live = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@main.command()
@click.argument("sheet")
@click.option("--no-torch", is_flag=True, help="Skip PyTorch even when it is installed.")
@click.option(
    "--variants",
    type=click.IntRange(1, 100_000),
    help="Also draw and solve this many variants: redraws, spread, numeric trouble.",
)
def check(sheet, no_torch, variants):
    """Verify SHEET's keys against finite differences, exact arithmetic, the printed
    steps and PyTorch autograd; say which of them ran."""
    from exgen.check.findings import summary
    from exgen.check.oracles import check_sheet, stress
    from exgen.define.load import load_sheet

    try:
        loaded = load_sheet(sheet)
        verdicts = check_sheet(loaded, no_torch=no_torch)
        report = stress(loaded, variants) if variants else None
    except ExgenError as exc:
        _fail(exc)
    for v in verdicts:
        click.echo("\n".join(v.lines()))
    bad = [v.exercise for v in verdicts if not v.ok]
    if report is not None:
        _report_stress(report)
    if report is not None and report.trouble:
        _fail(CheckFailed(f"{len(report.trouble)} problems among {report.count} variants"))
    lines = summary(verdicts)
    click.echo("\n".join(lines[:-1]))
    if bad:
        _fail(
            CheckFailed(
                f"{len(bad)} of {len(verdicts)} exercises disagree with an oracle: {', '.join(bad)}"
            )
        )
    click.echo(lines[-1])


def _report_stress(report) -> None:
    click.echo(f"{report.count} variants drawn and solved, {report.distinct} distinct")
    total = sum(report.redraws.values())
    click.echo(
        f"redraws: {total}"
        + (
            " (" + ", ".join(f"{k} {v}" for k, v in sorted(report.redraws.items())) + ")"
            if total
            else ""
        )
    )
    by_exercise: dict[str, list] = {}
    for column, spread in report.spread.items():
        exercise, _, answer = column.partition(" ")
        by_exercise.setdefault(exercise, []).append((answer, spread))
    for exercise, answers in by_exercise.items():
        (loss, (lo, hi, distinct)), grads = answers[0], answers[1:]
        line = f"  {exercise}: {loss} from {lo:g} to {hi:g} ({distinct} distinct)"
        if grads:
            g_lo = min(s[0] for _, s in grads)
            g_hi = max(s[1] for _, s in grads)
            fewest = min(s[2] for _, s in grads)
            line += (
                f"; {len(grads)} gradient entries from {g_lo:g} to {g_hi:g}, "
                f"each with at least {fewest} distinct values"
            )
        click.echo(line)
    for line in report.trouble[:20]:
        click.echo(f"trouble: {line}")
