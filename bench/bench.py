"""exgen's benchmark: build time of sheet9, and class sets of 1, 10 and 100 variants
with PDFs and as HTML only, each beside bare WeasyPrint (plain ``weasyprint`` defaults:
``HTML(filename=f).write_pdf()``) rendering the same HTML files on as many cores as exgen
uses; with peak memory. Then the CPU time of each of sheet9's two documents, through
exgen's pipeline and through bare WeasyPrint (the fastest of a few runs in one warm
process: steadier than wall times on a shared machine).

Usage: python bench/bench.py [--sizes 1 10 100] [--repeat 3] [--out bench/results.md]
Run it from the repository's root on an otherwise idle machine (the load is noted).
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
import os, sys, time
from concurrent.futures import ProcessPoolExecutor
from weasyprint import HTML
def render(f):
    HTML(filename=f).write_pdf()
if __name__ == "__main__":
    files = sys.argv[1:]
    start = time.perf_counter()
    with ProcessPoolExecutor(min(os.cpu_count() or 1, len(files))) as pool:
        list(pool.map(render, files))
    print(time.perf_counter() - start)
"""

PER_DOCUMENT = """
import sys, time
from weasyprint import HTML
from exgen.render.pdf import html_to_pdf
repeat, files = int(sys.argv[1]), sys.argv[2:]
def fastest(work):
    work()  # warm: imports, caches, the style sheet exgen parses once per process
    times = []
    for _ in range(repeat):
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
    return min(times)
for f in files:
    html = open(f, encoding="utf-8").read()
    print(fastest(lambda: html_to_pdf(html)), fastest(lambda: HTML(filename=f).write_pdf()))
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
    """Wall time of plain WeasyPrint on ``files``, one process per core."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "bare.py"  # a file: the pool's workers import their function
        script.write_text(BARE)
        out = subprocess.run(
            [sys.executable, str(script), *map(str, files)],
            check=True,
            capture_output=True,
            text=True,
        )
    return float(out.stdout.strip())


def per_document(files: list[Path], repeat: int) -> list[tuple[float, float]]:
    """CPU seconds of each file through exgen's html_to_pdf and through bare WeasyPrint."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", PER_DOCUMENT, str(repeat), *map(str, files)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return [tuple(map(float, line.split())) for line in out.stdout.splitlines()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--repeat", type=int, default=3, help="runs per document (fastest kept)")
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
        documents = list(zip(("sheet9 sheet", "sheet9 key"), per_document(files, args.repeat)))
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
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        f"exgen bench on {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"load average at the end {load}",
        "",
        "Wall times on all cores; bare WeasyPrint renders the same HTML files with its "
        "defaults, one process per core; ratio = exgen / bare WeasyPrint.",
        "",
        "| build | output | exgen (s) | per student (s) | bare WeasyPrint per student (s) "
        "| ratio | peak MiB |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, kind, t, bare, mem in rows:
        n = int(name.split()[0]) if name[0].isdigit() else 1
        lines.append(
            f"| {name} | {kind} | {t:.2f} | {t / n:.3f} | {bare / n:.3f} | {t / bare:.2f} "
            f"| {mem:.0f} |"
            if bare
            else f"| {name} | {kind} | {t:.2f} | {t / n:.3f} | – | – | {mem:.0f} |"
        )
    lines += [
        "",
        f"CPU time per document, fastest of {args.repeat} runs in one warm process:",
        "",
        "| document | exgen html_to_pdf (s) | bare WeasyPrint (s) | ratio |",
        "|---|---|---|---|",
    ]
    for name, (ours, bare) in documents:
        lines.append(f"| {name} | {ours:.3f} | {bare:.3f} | {ours / bare:.2f} |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
