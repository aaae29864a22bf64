"""exgen new NAME --from STARTER: a commented definition that builds and checks at once."""

from __future__ import annotations

import re

import pytest
from cli_run import invoke

from exgen.define.json_schema import MODELINE
from exgen.define.starters import PLACEHOLDER_SECRET, starter_text, starters


def test_the_starters():
    assert starters() == ["cnn", "mlp", "skip"]


@pytest.mark.parametrize("kind", starters())
def test_each_starter_builds_a_class_and_checks(tmp_path, kind):
    result = invoke(tmp_path, "new", "mine", "--from", kind)
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"wrote exercises/mine.yaml (from the {kind} starter) and schema/exgen.schema.json "
        "(for editors); build it with: exgen build mine\n"
    )
    # the modeline's schema, as `exgen schema` prints it; a second file leaves it be
    assert (tmp_path / "schema/exgen.schema.json").read_text() == invoke(tmp_path, "schema").output
    again = invoke(tmp_path, "new", "other", "--from", kind)
    assert again.output.startswith("wrote exercises/other.yaml (from the ")
    assert "schema/" not in again.output
    text = (tmp_path / "exercises" / "mine.yaml").read_text(encoding="utf-8")
    assert text.split("\n", 1)[0] == MODELINE
    # the starter as shipped, but for a fresh variants secret of its own
    seed = re.search(r"seed: ([0-9a-f]{16})\n", text).group(1)
    assert text == starter_text(kind).replace(PLACEHOLDER_SECRET, seed)
    built = invoke(tmp_path, "build", "mine", "--no-pdf")
    assert built.exit_code == 0, built.output
    assert invoke(tmp_path, "build", "mine", "--no-pdf", "--variants", "3").exit_code == 0
    checked = invoke(tmp_path, "check", "mine", "--no-torch")
    assert checked.exit_code == 0, checked.output


def test_the_default_starter_is_mlp(tmp_path):
    result = invoke(tmp_path, "new", "sheet1")
    assert result.exit_code == 0
    assert "(from the mlp starter)" in result.output


def test_each_file_gets_its_own_secret(tmp_path):
    invoke(tmp_path, "new", "a")
    invoke(tmp_path, "new", "b")
    a, b = ((tmp_path / "exercises" / f"{n}.yaml").read_text() for n in "ab")
    assert a != b


def test_an_existing_file_is_never_overwritten(tmp_path):
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "mine.yaml").write_text("title: mine\n")
    result = invoke(tmp_path, "new", "mine", "--from", "cnn")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: exercises/mine.yaml already exists; exgen new does not overwrite it "
        "(choose another name, or delete the file first)\n"
    )
    assert (tmp_path / "exercises" / "mine.yaml").read_text() == "title: mine\n"


@pytest.mark.parametrize("name", ["../up", "a/b", "_x", "my sheet", "a.yaml", "x" * 65, ""])
def test_a_name_that_is_no_sheet_name_is_refused(tmp_path, name):
    result = invoke(tmp_path, "new", name)
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: '{name}' is not a sheet name (letters, digits, '_' and '-', at most 64, "
        f"starting with a letter or digit)\n"
    )
    assert not (tmp_path / "exercises").exists()


def test_an_unknown_starter_names_the_starters(tmp_path):
    result = invoke(tmp_path, "new", "mine", "--from", "transformer")
    assert result.exit_code == 2
    assert result.stderr == "error: unknown starter 'transformer' (starters: cnn, mlp, skip)\n"
    assert not (tmp_path / "exercises").exists()


def test_help_lists_the_starters(tmp_path):
    result = invoke(tmp_path, "new", "--help")
    assert result.exit_code == 0
    assert "--from STARTER  One of: cnn, mlp, skip." in result.output
    assert "from a starter (cnn, mlp, skip; default mlp)" in " ".join(result.output.split())


def test_an_exercises_file_in_the_way_is_an_output_error(tmp_path):
    (tmp_path / "exercises").write_text("not a folder\n")
    result = invoke(tmp_path, "new", "mine")
    assert result.exit_code == 3
    assert result.stderr == "error: cannot write exercises/mine.yaml (exercises is not a folder)\n"
