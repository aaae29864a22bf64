"""exgen's benchmark: build time of sheet9, and class sets of 1, 10 and 100 variants
with PDFs and as HTML only, each beside bare WeasyPrint rendering the same HTML files
one after another in one process; with peak memory.

Usage: python bench/bench.py [--sizes 1 10 100] [--out bench/results.md]
Run it from the repository's root on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BARE = """
import sys, time
from weasyprint import HTML
files = sys.argv[1:]
start = time.perf_counter()
for f in files:
    HTML(filename=f).write_pdf()
print(time.perf_counter() - start)
"""


MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def run(args: list[str], cwd: Path) -> tuple[float, float]:
    """Wall time of a command, and the peak memory (MiB) of its largest process, measured
    in a fresh wrapper process so that each run has its own peak."""
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, *args], cwd=cwd, check=True, capture_output=True, text=True
    )
    elapsed, peak_kib = out.stdout.split()
    return float(elapsed), int(peak_kib) / 1024


def bare_weasyprint(files: list[Path]) -> float:
    out = subprocess.run(
        [sys.executable, "-c", BARE, *map(str, files)], check=True, capture_output=True, text=True
    )
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--out", type=Path, help="also write the table to this Markdown file")
    args = parser.parse_args()
    exgen = [sys.executable, "-m", "exgen"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(ROOT / "exercises", work / "exercises")
        t, mem = run(exgen + ["build", "sheet9"], work)
        files = [work / "out/sheet9" / f for f in ("sheet.html", "key.html")]
        bare = bare_weasyprint(files)
        rows.append(("sheet9 (sheet + key)", "PDF", t, bare, mem))
        t, mem = run(exgen + ["build", "sheet9", "--no-pdf"], work)
        rows.append(("sheet9 (sheet + key)", "HTML", t, None, mem))
        for n in args.sizes:
            t_html, mem_html = run(
                exgen + ["build", "sheet9", "--variants", str(n), "--no-pdf"], work
            )
            rows.append((f"{n} variant{'s' if n > 1 else ''}", "HTML", t_html, None, mem_html))
            t_pdf, mem_pdf = run(exgen + ["build", "sheet9", "--variants", str(n)], work)
            folder = work / "out/sheet9/variants"
            htmls = [
                folder / s / f
                for s in sorted(os.listdir(folder))
                for f in ("sheet.html", "key.html")
            ]
            bare = bare_weasyprint(htmls)
            rows.append((f"{n} variant{'s' if n > 1 else ''}", "PDF", t_pdf, bare, mem_pdf))
    lines = [
        f"exgen bench on {os.cpu_count()} cores, Python {sys.version.split()[0]}",
        "",
        "| build | output | exgen (s) | per student (s) | bare WeasyPrint (s) | ratio | peak MiB |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, kind, t, bare, mem in rows:
        n = int(name.split()[0]) if name[0].isdigit() else 1
        ratio = f"{t / bare:.2f}" if bare else "–"
        lines.append(
            f"| {name} | {kind} | {t:.2f} | {t / n:.3f} | {bare:.2f} | {ratio} | {mem:.0f} |"
            if bare
            else f"| {name} | {kind} | {t:.2f} | {t / n:.3f} | – | – | {mem:.0f} |"
        )
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
