"""exgen's benchmark: build time of sheet9, and class sets of 1, 10 and 100 variants
with PDFs and as HTML only, each beside bare WeasyPrint (plain ``weasyprint`` defaults:
``HTML(filename=f).write_pdf()``) rendering the same HTML files on as many cores as exgen
uses; with peak memory. Then the CPU time of each of sheet9's two documents, through
exgen's pipeline and through bare WeasyPrint (the fastest of a few runs in one warm
process: steadier than wall times on a shared machine).

Usage: python bench/bench.py [--sizes 1 10 100] [--repeat 3] [--out bench/results.md]
       python bench/bench.py --memory 20 50 100 [--no-pdf]   (peak memory only)
       python bench/bench.py --notebooks 30   (a class of hw2 with and without notebooks)
       python bench/bench.py --grade 1000   (exgen grade of a sheet9 class, no PDFs)
       python bench/bench.py --export 500   (exgen export of a sheet9 class, both formats)
Run it from the repository's root on an otherwise idle machine (the load is noted).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def scratch() -> Iterator[Path]:
    """A temporary working folder with a copy of exercises/, as a course's folder: every
    table measures commands run in one."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(ROOT / "exercises", work / "exercises")
        yield work


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


def run(args: list[str], cwd: Path) -> tuple[float, float]:
    """Wall time of a command, and the peak memory (MiB) of all its processes together."""
    elapsed, peak_pss, _peak_rss = measure(args, cwd)
    return elapsed, peak_pss


def measure(args: list[str], cwd: Path, every: float = 0.1) -> tuple[float, float, float]:
    """Wall time, and the peak over time of the memory of the command and all its worker
    processes together (MiB): as PSS (each shared page counted once, split among the
    processes sharing it: what the machine must hold) and as RSS (shared pages counted
    in every process that maps them: an upper bound). ``ru_maxrss`` would give only the
    largest single process."""
    import time

    import psutil  # bench only: the process tree's memory, sampled

    start = time.perf_counter()
    process = psutil.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL)
    peak_pss = peak_rss = 0
    while process.poll() is None:
        pss = rss = 0
        for p in [process, *process.children(recursive=True)]:
            try:
                info = p.memory_full_info()
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            pss += info.pss
            rss += info.rss
        peak_pss, peak_rss = max(peak_pss, pss), max(peak_rss, rss)
        time.sleep(every)
    elapsed = time.perf_counter() - start
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, args)
    return elapsed, peak_pss / 2**20, peak_rss / 2**20


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


def grade_time(n: int) -> None:
    """Wall time of `exgen grade` for a class of ``n``: sheet9 with its forward values
    collected, every third student's first hidden value off by one and the rest of
    their answers left as the key has them (wrong, to be checked for carried credit)."""
    import csv

    exgen = [sys.executable, "-m", "exgen"]
    with scratch() as work:
        sheet = work / "exercises/sheet9.yaml"
        text = sheet.read_text(encoding="utf-8").split("\n")
        asks = [k for k, line in enumerate(text) if line == "    ask: [forward, backward]"]
        text.insert(asks[1] + 1, "    collect: [z1, z2, y, L, grads]")
        text.insert(asks[0] + 1, "    collect: [h1, y, L, grads]")
        sheet.write_text("\n".join(text), encoding="utf-8")
        run(exgen + ["build", "sheet9", "--variants", str(n), "--no-pdf"], work)
        keys = list(csv.DictReader((work / "out/sheet9/answers.csv").open(encoding="utf-8")))
        form = list(csv.reader((work / "out/sheet9/answer-form.csv").open(encoding="utf-8")))
        header = form[0]
        with (work / "in.csv").open("w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            out.writerow(header)
            for k, row in enumerate(form[1:]):
                # answers.csv has the loss and gradients: the forward values stay empty
                cells = [keys[k].get(c, "") for c in header[2:]]
                if k % 3 == 0:
                    cells[header.index("q1 h1[1]") - 2] = "1.23"
                out.writerow(row[:2] + cells)
        t, mem = run(exgen + ["grade", "sheet9", "--answers", "in.csv", "--no-pdf"], work)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"exgen grade, sheet9, {n} students, no PDFs: {t:.2f} s, peak {mem:.0f} MiB (load {load})"
    )


def export_time(n: int) -> None:
    """Wall time of `exgen export` of a sheet9 class of ``n`` to each format (the class
    built first, without PDFs; the export alone is timed)."""
    exgen = [sys.executable, "-m", "exgen"]
    with scratch() as work:
        run(exgen + ["build", "sheet9", "--variants", str(n), "--no-pdf"], work)
        print("| variants | format | time (s) | peak MiB | file (MB) |")
        print("|---|---|---|---|---|")
        for to, name in (("moodle", "moodle.xml"), ("qti", "qti.zip")):
            t, mem = run(exgen + ["export", "sheet9", "--to", to], work)
            size = (work / "out/sheet9" / name).stat().st_size / 1e6
            print(f"| {n} | {to} | {t:.2f} | {mem:.0f} | {size:.1f} |", flush=True)
    print(f"(load {', '.join(f'{x:.2f}' for x in os.getloadavg())})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--repeat", type=int, default=3, help="runs per document (fastest kept)")
    parser.add_argument("--out", type=Path, help="also write the table to this Markdown file")
    parser.add_argument(
        "--memory",
        type=int,
        nargs="+",
        metavar="N",
        help="only the peak memory of sheet9 classes of these sizes (add --no-pdf for HTML)",
    )
    parser.add_argument("--no-pdf", action="store_true")
    parser.add_argument(
        "--sheets", nargs="+", help="only single builds of these sheets, with and without PDFs"
    )
    parser.add_argument(
        "--notebooks",
        type=int,
        metavar="N",
        help="only a class of N of hw2-numpy-backprop, with and without its notebooks",
    )
    parser.add_argument(
        "--grade",
        type=int,
        metavar="N",
        help="only exgen grade of a sheet9 class of N (forward values collected, a slip "
        "carried forward in every third row), without PDFs",
    )
    parser.add_argument(
        "--export",
        type=int,
        metavar="N",
        help="only exgen export of a sheet9 class of N, to Moodle XML and to QTI",
    )
    args = parser.parse_args()
    if args.export:
        export_time(args.export)
        return
    if args.grade:
        grade_time(args.grade)
        return
    if args.memory:
        memory_table(args.memory, pdf=not args.no_pdf)
        return
    if args.sheets:
        sheets_table(args.sheets, args.repeat)
        return
    if args.notebooks:
        notebook_table(args.notebooks)
        return
    exgen = [sys.executable, "-m", "exgen"]
    rows = []
    with scratch() as work:
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


def memory_table(sizes: list[int], pdf: bool) -> None:
    """Peak memory of all processes of a class build, against the class's size."""
    exgen = [sys.executable, "-m", "exgen", "build", "sheet9"] + ([] if pdf else ["--no-pdf"])
    print("| students | output | time (s) | peak PSS MiB (all processes) | peak RSS sum MiB |")
    print("|---|---|---|---|---|")
    with scratch() as work:
        for n in sizes:
            t, pss, rss = measure(exgen + ["--variants", str(n)], work)
            kind = "PDF" if pdf else "HTML"
            print(f"| {n} | {kind} | {t:.1f} | {pss:.0f} | {rss:.0f} |", flush=True)


def sheets_table(names: list[str], repeat: int) -> None:
    """One build of each named sheet (the plain sheet and key), with and without PDFs:
    wall time of the whole command (fastest of ``repeat``) and its peak memory."""
    print("| sheet | output | time (s) | peak PSS MiB (all processes) |")
    print("|---|---|---|---|")
    with scratch() as work:
        for name in names:
            for pdf in (False, True):
                args = [sys.executable, "-m", "exgen", "build", name]
                runs = [measure(args + ([] if pdf else ["--no-pdf"]), work) for _ in range(repeat)]
                t, pss, _ = min(runs)
                kind = "PDF" if pdf else "HTML"
                print(f"| {name} | {kind} | {t:.2f} | {pss:.0f} |", flush=True)


def notebook_table(n: int) -> None:
    """A class build of the sheet with notebooks (seed 000: a seed per student), beside
    the same sheet without its notebook block: what the notebooks cost."""
    name = "hw2-numpy-backprop"
    print("| students | output | notebooks | time (s) | peak PSS MiB (all processes) |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "exercises").mkdir()
        text = (ROOT / "exercises" / f"{name}.yaml").read_text()
        (work / "exercises" / f"{name}.yaml").write_text(text)
        bare = "\n".join(x for x in text.splitlines() if not x.strip().startswith("notebook:"))
        (work / "exercises" / "plain.yaml").write_text(bare + "\n")
        for pdf in (False, True):
            for sheet, notebooks in ((name, "yes"), ("plain", "no")):
                args = [sys.executable, "-m", "exgen", "build", sheet, "--variants", str(n)]
                t, pss, _ = measure(args + ([] if pdf else ["--no-pdf"]), work)
                kind = "PDF" if pdf else "HTML"
                print(f"| {n} | {kind} | {notebooks} | {t:.1f} | {pss:.0f} |", flush=True)


if __name__ == "__main__":
    main()
