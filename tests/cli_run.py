"""Running the CLI in a test, from a working folder (as a user would from their course's)."""

import os
from pathlib import Path

from click.testing import CliRunner

from exgen.cli import main


def invoke(work: Path, *args):
    cwd = os.getcwd()
    os.chdir(work)
    try:
        return CliRunner().invoke(main, list(args))
    finally:
        os.chdir(cwd)
