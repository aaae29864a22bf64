"""The command line: a few lines over build and check."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from . import __version__
from .build import build as run_build
from .errors import CheckFailed, ExgenError, exit_code_for


def _fail(exc: ExgenError):
    sys.stdout.flush()
    click.echo(f"error: {exc}", err=True)
    sys.exit(exit_code_for(exc))


@click.group()
@click.version_option(__version__, prog_name="exgen")
def main():
    """exgen: backpropagation homework sheets and worked, verified keys."""


@main.command()
@click.argument("sheet")
@click.option("--out", "out_dir", default="out", show_default=True, type=click.Path(file_okay=False),
              help="Folder that receives SHEET's output folder.")
@click.option("--no-pdf", is_flag=True, help="Write HTML and key.json only.")
def build(sheet, out_dir, no_pdf):
    """Build SHEET (a name under exercises/ or a path to a .yaml file)."""
    with _Progress(sheet) as progress:
        try:
            result = run_build(sheet, Path(out_dir), pdf=not no_pdf, progress=progress)
        except ExgenError as exc:
            progress.close()
            _fail(exc)
    click.echo(f"built {result.target}/: {', '.join(result.files)}")


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
def check(sheet, no_torch):
    """Verify SHEET's keys against finite differences and PyTorch autograd."""
    from .check import check_sheet
    from .definitions import load_sheet
    try:
        verdicts = check_sheet(load_sheet(sheet), use_torch=False if no_torch else None)
    except ExgenError as exc:
        _fail(exc)
    for v in verdicts:
        mark = "ok" if v.ok else "MISMATCH"
        details = "; ".join(f"{f.oracle} {'ok' if f.ok else 'FAILED'} ({f.detail})" for f in v.findings)
        click.echo(f"{v.exercise}: {mark} — {details}")
    bad = [v.exercise for v in verdicts if not v.ok]
    if bad:
        _fail(CheckFailed(f"{len(bad)} of {len(verdicts)} exercises disagree with an oracle: "
                          f"{', '.join(bad)}"))
    click.echo(f"all {len(verdicts)} exercises agree with every oracle")
