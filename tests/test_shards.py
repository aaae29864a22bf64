"""A class split across machines: `exgen build … --shard K/N` and `exgen merge` give the
same files, byte for byte, as one build of the whole class, and a merge refuses shards
that do not make one class; the booklet is joined from the keys on disk, in parts."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pikepdf
import pytest
from cli_run import invoke

from exgen.build import booklet, class_files

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
RULE = "--shard takes K/N, two whole numbers with 1 ≤ K ≤ N (e.g. --shard 2/8)"


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "tiny.yaml").write_text(TINY)
    return tmp_path


def files_of(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too), by relative path."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def build_ok(work: Path, *args) -> str:
    result = invoke(work, "build", "tiny", *args)
    assert result.exit_code == 0, result.output
    return result.output


def shards(work: Path, n: int, *args, out: str = "out") -> None:
    for k in range(1, n + 1):
        build_ok(work, *args, "--shard", f"{k}/{n}", "--out", out)


def refused(work: Path, message: str, *args) -> None:
    result = invoke(work, *args)
    assert (result.exit_code, result.output) == (2, f"error: {message}\n")


@pytest.mark.parametrize("shard", ["0/3", "4/3", "1/0", "3", "a/b", "-1/2", "1/2/3", ""])
def test_bad_shard_values_are_refused(work, shard):
    refused(work, f"{RULE}; got {shard!r}", "build", "tiny", "--variants", "5", "--shard", shard)
    assert not (work / "out").exists()


def test_shard_needs_a_class_and_not_one_student(work):
    refused(
        work,
        "--shard splits a class: give --variants or --roster too",
        *("build", "tiny", "--shard", "1/2"),
    )
    refused(
        work,
        "give --shard or --student, not both",
        *("build", "tiny", "--variants", "5", "--student", "001", "--shard", "1/2"),
    )


def test_two_shards_merged_equal_one_build(work):
    build_ok(work, "--variants", "5", "--no-pdf", "--out", "whole")
    assert build_ok(work, "--variants", "5", "--no-pdf", "--shard", "1/2") == (
        "built out/tiny/shards/1-of-2/ for 3 of 5 students (shard 1 of 2)\n"
    )
    shard = work / "out/tiny/shards/1-of-2"
    assert sorted(os.listdir(shard / "variants")) == ["001", "003", "005"]
    assert (shard / ".exgen").is_file() and (work / "out/tiny/.exgen").is_file()
    assert b'"s"' not in (shard / "shard.json").read_bytes()  # the secret stays home
    build_ok(work, "--variants", "5", "--no-pdf", "--shard", "2/2")
    result = invoke(work, "merge", "tiny")
    assert (result.exit_code, result.output) == (
        0,
        "merged 2 shards into out/tiny/ for 5 students\n",
    )
    assert files_of(work / "out/tiny") == files_of(work / "whole/tiny")


def test_more_shards_than_students(work):
    build_ok(work, "--variants", "2", "--no-pdf", "--out", "whole")
    assert "for 0 of 2 students" in build_ok(work, "--variants", "2", "--no-pdf", "--shard", "3/3")
    shards(work, 2, "--variants", "2", "--no-pdf", out="out")  # 1-of-2, 2-of-2: N disagrees
    refused(work, "the shards disagree on N: 1-of-2, 2-of-2, 3-of-3", "merge", "tiny")
    shutil.rmtree(work / "out")
    shards(work, 3, "--variants", "2", "--no-pdf")
    assert invoke(work, "merge", "tiny").exit_code == 0
    assert files_of(work / "out/tiny") == files_of(work / "whole/tiny")


def test_merge_refuses_a_missing_shard_and_writes_nothing(work):
    build_ok(work, "--variants", "5", "--no-pdf", "--shard", "1/3")
    before = files_of(work / "out/tiny")
    refused(work, "shards 2-of-3 and 3-of-3 are missing", "merge", "tiny")
    build_ok(work, "--variants", "5", "--no-pdf", "--shard", "3/3")
    refused(work, "shard 2-of-3 is missing", "merge", "tiny")
    assert files_of(work / "out/tiny/shards/1-of-3") == {
        k[len("shards/1-of-3/") :]: v for k, v in before.items() if k.startswith("shards/1-of-3/")
    }
    assert sorted(os.listdir(work / "out")) == ["tiny"]  # no staging folder left
    assert sorted(os.listdir(work / "out/tiny")) == [".exgen", "shards"]


def test_merge_without_shards(work):
    refused(
        work,
        "out/tiny/shards: no shards to merge; build them with exgen build … --shard K/N",
        "merge",
        "tiny",
    )


def test_merge_refuses_a_duplicated_shard(work):
    build_ok(work, "--variants", "4", "--no-pdf", "--shard", "1/2")
    shutil.copytree(work / "out/tiny/shards/1-of-2", work / "out/tiny/shards/2-of-2")
    refused(
        work,
        "shard 1-of-2 is duplicated: a copy of it is in out/tiny/shards/2-of-2",
        "merge",
        "tiny",
    )


@pytest.mark.parametrize(
    "second, why",
    [
        (["--variants", "6", "--no-pdf"], "another roster or --variants"),
        (["--variants", "4"], "one built with PDFs, the other with --no-pdf"),
        (["--variants", "4", "--no-pdf", "--seed", "other"], None),
        (["--variants", "4", "--no-pdf"], "another version of the definition"),
    ],
)
def test_merge_refuses_shards_of_another_class_or_secret(work, second, why, monkeypatch):
    build_ok(work, "--variants", "4", "--no-pdf", "--shard", "1/2")
    if why == "another version of the definition":
        (work / "exercises/tiny.yaml").write_text(TINY.replace("t: 20", "t: 21"))
    if "--no-pdf" not in second:  # stand-in PDFs: the merge refuses before it reads a key
        from exgen.render import pdf

        monkeypatch.setattr(pdf, "html_to_pdf", lambda html: b"%PDF-1.7 stand-in")
        monkeypatch.setattr(pdf, "html_to_pdfs", lambda htmls: [b"%PDF-1.7 stand-in"] * 2)
    build_ok(work, *second, "--shard", "2/2")
    other, first = (class_files.secret_fingerprint(s) for s in ("other", "s"))
    message = (
        f"shard 2-of-2 is from another class than shard 1-of-2 ({why})"
        if why
        else "shard 2-of-2 was built with another secret than shard 1-of-2 "
        f"(secret fingerprint {other}, not {first})"
    )
    refused(work, message, "merge", "tiny")
    assert sorted(os.listdir(work / "out/tiny")) == [".exgen", "shards"]


def test_merge_of_shards_copied_in_by_a_job_runner(work):
    """CI artifacts land in out/NAME/shards/ of a folder exgen did not make."""
    build_ok(work, "--variants", "3", "--no-pdf", "--out", "whole")
    shards(work, 2, "--variants", "3", "--no-pdf", out="runner")
    (work / "out/tiny").mkdir(parents=True)
    shutil.copytree(work / "runner/tiny/shards", work / "out/tiny/shards")
    assert invoke(work, "merge", "tiny").exit_code == 0
    assert files_of(work / "out/tiny") == files_of(work / "whole/tiny")


def test_the_booklet_holds_every_key_in_roster_order(tmp_path):
    keys = []
    for i in range(5):  # key i: i + 1 pages, each as wide as 100 + 10 * i points
        pdf = pikepdf.Pdf.new()
        for j in range(i + 1):
            pdf.add_blank_page(page_size=(100 + 10 * i, 200 + j))
        pdf.pages[0].obj.Parent.Rotate = 90  # inherited from the page tree: kept
        keys.append(tmp_path / f"{i}.pdf")
        pdf.save(keys[-1])
    booklet.write_booklet(keys, tmp_path / "keys.pdf")
    first = (tmp_path / "keys.pdf").read_bytes()
    booklet.write_booklet(keys, tmp_path / "keys.pdf")
    assert (tmp_path / "keys.pdf").read_bytes() == first  # the same keys, the same bytes
    with pikepdf.Pdf.open(tmp_path / "keys.pdf") as joined:
        sizes = [(int(p.mediabox[2]), int(p.mediabox[3]), int(p.Rotate)) for p in joined.pages]
        assert str(joined.docinfo["/Title"]) == "Solution keys"
        assert joined.check_pdf_syntax() == []
    assert sizes == [(100 + 10 * i, 200 + j, 90) for i in range(5) for j in range(i + 1)]


@pytest.mark.pdf
def test_shards_with_pdfs_merged_equal_one_build(work):
    build_ok(work, "--variants", "3", "--out", "whole")
    shards(work, 2, "--variants", "3")
    assert invoke(work, "merge", "tiny").exit_code == 0
    merged, whole = files_of(work / "out/tiny"), files_of(work / "whole/tiny")
    assert "keys.pdf" in merged and "variants/003/key.pdf" in merged
    assert merged == whole


def test_merge_refuses_a_shard_of_an_older_exgen(work):
    """A shard record without a student's answer-form columns (written before the
    answer form) is refused as unreadable, not a traceback."""
    shards(work, 2, "--variants", "3", "--no-pdf")
    record = work / "out/tiny/shards/2-of-2/shard.json"
    data = json.loads(record.read_text())
    del data["students"][0]["form"]
    record.write_text(json.dumps(data))
    refused(
        work,
        "out/tiny/shards/2-of-2/shard.json: missing or unreadable; build the shard again",
        "merge",
        "tiny",
    )
