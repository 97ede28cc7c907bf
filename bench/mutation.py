"""Mutation testing of the spine: how many single-point faults the test suite kills (cosmic-ray).

Every mutant is one small change cosmic-ray's core operators make to one place in the code (an operator
swapped, a comparison moved across its boundary, a constant moved by one, a condition negated, a loop
skipped, an exception class or decorator changed, ...); the package's tests then run against it. A
mutant the tests fail on (or time out on) is killed; one they pass on survived: either a behaviour no
test pins, or an equivalent change (read the diff). As mutmut does, each binary or comparison operator
gets one replacement (``+``->``-``, ``<``->``<=``, ``==``->``!=``, ...) rather than cosmic-ray's every
other operator, and type annotations and lines marked ``# pragma: no mutate`` are left alone.

    .venv/bin/python bench/mutation.py [--quick | --sample N | --all] [--packages ricproto/rmr,...]
                                       [--jobs N] [--seed N]

It is slow (about 7,600 mutants, one test run of 10-70 s each), so it is a bench, not CI. By default it
runs a random sample of ``DEFAULT_SAMPLE`` mutants per package (hours; the kill rate comes with its 95 %
interval), ``--all`` runs every mutant (days on one core), ``--quick`` a few per package; ``--seed``
picks the sample, ``--jobs N`` runs N mutants at a time, each in its own copy of the tree.

The mutants are made in copies of the tracked files (``git ls-files``) in a temporary directory, never in
this checkout; ``../shared`` is linked beside the copies so the cross-checks run too. Each package's
mutants run against the tests in ``PACKAGES`` (the package's own tests plus the ones that exercise it
through its users), with ``pytest -x``; the unmutated tests run first (the baseline; their time sets the
per-mutant timeout) and must pass.

Out: survivors with their diffs in bench/out/mutation-survivors.txt, cosmic-ray's session in
bench/out/mutation.sqlite (``cr-report bench/out/mutation.sqlite``), a plot in bench/out/mutation.png,
and a last line of JSON: ``killed``, ``survived``, ``kill_rate`` (target >= 0.85) and ``per_package``
(each package's ``killed``, ``survived``, ``kill_rate``, ``survivors``), with the run's settings.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import difflib
import json
import math
import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cosmic_ray.plugins
from cosmic_ray.commands.init import _all_work_items
from cosmic_ray.modules import find_modules
from cosmic_ray.mutating import use_mutation
from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkItem, WorkResult
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
TARGET_KILL_RATE = 0.85
QUICK_SAMPLE = 6
DEFAULT_SAMPLE = 150

# One replacement per binary and comparison operator (cosmic-ray makes every other operator).
BINARY = {
    "Add": "Sub",
    "Sub": "Add",
    "Mul": "Div",
    "Div": "Mul",
    "FloorDiv": "Mul",
    "Mod": "FloorDiv",
    "Pow": "Mul",
    "RShift": "LShift",
    "LShift": "RShift",
    "BitOr": "BitAnd",
    "BitAnd": "BitOr",
    "BitXor": "BitOr",
}
COMPARISON = {
    "Eq": "NotEq",
    "NotEq": "Eq",
    "Lt": "LtE",
    "LtE": "Lt",
    "Gt": "GtE",
    "GtE": "Gt",
    "Is": "IsNot",
    "IsNot": "Is",
}

# Package (or module) to mutate -> the tests that run against its mutants.
PACKAGES: dict[str, tuple[str, ...]] = {
    "ricproto/rmr": (
        "tests/ricproto/rmr",
        "tests/ricplt/appmgr/test_distribution.py",
        "tests/ricplt/test_routes.py",
    ),
    "ricproto/aper.py": ("tests/ricproto/test_aper.py", "tests/ricproto/e2ap", "tests/ricproto/e2sm"),
    "ricproto/e2ap": ("tests/ricproto/e2ap", "tests/ricproto/test_e2transport.py"),
    "e2sim/ran": ("tests/e2sim",),
    "ricplt/submgr": ("tests/ricplt/submgr",),
    "xapps/control": ("tests/xapps/control",),
    "xapps/common": ("tests/xapps",),
}


@dataclass
class Tally:
    total: int = 0
    planned: int = 0
    killed: int = 0
    survived: int = 0
    timeouts: int = 0
    errors: int = 0
    survivors: list[str] = field(default_factory=list)

    @property
    def kill_rate(self) -> float | None:
        done = self.killed + self.survived
        return round(self.killed / done, 4) if done else None


def copy_tree(dest: Path) -> None:
    """The tracked files of this checkout (as they are on disk now) under ``dest``."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    for name in listed.decode().split("\0"):
        if not name:
            continue
        src = ROOT / name
        if not src.is_file():  # deleted in the working tree
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)


def test_env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    # The copy shadows the editable install: PYTHONPATH comes before site-packages and its finder.
    env["PYTHONPATH"] = str(root)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_tests(root: Path, tests: tuple[str, ...], timeout: float) -> tuple[TestOutcome, str, float]:
    """pytest on ``tests`` in the copy at ``root``: (outcome, output, seconds); a timeout kills."""
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", *tests]
    start = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        cwd=root,
        env=test_env(root),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return TestOutcome.KILLED, "timeout", time.monotonic() - start
    text = out.decode(errors="replace")
    outcome = TestOutcome.SURVIVED if proc.returncode == 0 else TestOutcome.KILLED
    return outcome, text, time.monotonic() - start


def mutate_and_test(item: WorkItem, root: Path, tests: tuple[str, ...], timeout: float) -> WorkResult:
    """cosmic-ray's mutate-and-test, in the copy at ``root`` (its paths are relative to a copy)."""
    try:
        with contextlib.ExitStack() as stack:
            diffs: list[str] = []
            for mutation in item.mutations:
                operator = cosmic_ray.plugins.get_operator(mutation.operator_name)(**mutation.operator_args)
                path = root / mutation.module_path
                original, mutated = stack.enter_context(use_mutation(path, operator, mutation.occurrence))
                if mutated is None:
                    return WorkResult(worker_outcome=WorkerOutcome.NO_TEST)
                diffs.extend(
                    difflib.unified_diff(
                        original.splitlines(),
                        mutated.splitlines(),
                        f"a/{mutation.module_path}",
                        f"b/{mutation.module_path}",
                        lineterm="",
                        n=1,
                    )
                )
            outcome, output, _ = run_tests(root, tests, timeout)
            return WorkResult(
                worker_outcome=WorkerOutcome.NORMAL,
                test_outcome=outcome,
                output=output[-4000:],
                diff="\n".join(diffs),
            )
    except Exception as exc:  # a mutation that could not be applied: reported, not counted
        return WorkResult(
            worker_outcome=WorkerOutcome.EXCEPTION, test_outcome=TestOutcome.INCOMPETENT, output=repr(exc)
        )


def wanted_operator(name: str) -> bool:
    short = name.split("/")[-1]
    for prefix, table in (("ReplaceBinaryOperator_", BINARY), ("ReplaceComparisonOperator_", COMPARISON)):
        if short.startswith(prefix):
            source, target = short[len(prefix) :].split("_")
            return table.get(source) == target
    return True


def left_alone(path: Path) -> tuple[list[tuple[tuple[int, int], tuple[int, int]]], set[int]]:
    """Spans of type annotations (never evaluated: ``from __future__ import annotations``) and the
    lines marked ``# pragma: no mutate``."""
    source = path.read_text()
    spans = []
    for node in ast.walk(ast.parse(source)):
        annotations: list[ast.expr | None] = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            annotations.append(node.returns)
        elif isinstance(node, ast.arg):
            annotations.append(node.annotation)
        elif isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
        spans += [
            ((a.lineno, a.col_offset), (a.end_lineno or a.lineno, a.end_col_offset or 0))
            for a in annotations
            if a is not None
        ]
    marked = {n for n, line in enumerate(source.splitlines(), 1) if "pragma: no mutate" in line}
    return spans, marked


def mutants(modules: list[Path]) -> Iterator[WorkItem]:
    """cosmic-ray's work items for ``modules`` (paths relative to the current directory), filtered."""
    for module in modules:
        spans, marked = left_alone(module)
        for item in _all_work_items([module], {}):
            m = item.mutations[0]
            start = tuple(m.start_pos)
            if (
                wanted_operator(m.operator_name)
                and start[0] not in marked
                and not any(s <= start < e for s, e in spans)
            ):
                yield item


def wilson(killed: int, n: int) -> list[float] | None:
    """95 % interval of a kill rate measured on a sample of ``n`` mutants."""
    if n == 0:
        return None
    z, p = 1.96, killed / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)]


def package_of(module_path: str) -> str:
    for pkg in PACKAGES:
        if module_path == pkg or module_path.startswith(pkg.rstrip("/") + "/"):
            return pkg
    raise KeyError(module_path)


def describe(item: WorkItem) -> str:
    m = item.mutations[0]
    where = m.definition_name or "<module>"
    return f"{m.module_path}:{m.start_pos[0]} {m.operator_name} #{m.occurrence} in {where}"


@contextlib.contextmanager
def pushd(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def check_shadowing(root: Path) -> None:
    """The copy's packages are the ones imported (not this checkout's editable install)."""
    probe = "import ricproto, e2sim, ricplt, xapps; print(ricproto.__file__)"
    where = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=root,
        env=test_env(root),
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if not Path(where).resolve().is_relative_to(root.resolve()):
        raise SystemExit(f"the copy at {root} does not shadow the installed packages ({where})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--quick", action="store_true", help=f"sample {QUICK_SAMPLE} mutants per package")
    choice.add_argument(
        "--sample",
        type=int,
        default=DEFAULT_SAMPLE,
        help=f"mutants per package to run (default {DEFAULT_SAMPLE})",
    )
    choice.add_argument("--all", action="store_true", help="every mutant (days on one core)")
    parser.add_argument("--packages", help="comma-separated subset of: " + ", ".join(PACKAGES))
    parser.add_argument("--seed", type=int, default=16, help="which mutants a sample takes")
    parser.add_argument("--jobs", type=int, default=1, help="mutants tested at a time (one tree copy each)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copies (path printed)")
    args = parser.parse_args()
    console = Console(stderr=True)
    packages = list(PACKAGES) if not args.packages else [p.strip() for p in args.packages.split(",")]
    unknown = [p for p in packages if p not in PACKAGES]
    if unknown:
        parser.error(f"unknown package(s) {unknown}; known: {', '.join(PACKAGES)}")
    sample = None if args.all else QUICK_SAMPLE if args.quick else args.sample
    jobs = max(1, args.jobs)

    tmp = Path(tempfile.mkdtemp(prefix="twinric-mutation-"))
    console.print(f"copies of the tree in {tmp}")
    try:
        roots = [tmp / f"twinric-{i}" for i in range(jobs)]
        for root in roots:
            copy_tree(root)
        if (ROOT.parent / "shared").is_dir():
            (tmp / "shared").symlink_to(ROOT.parent / "shared")
        check_shadowing(roots[0])
        result = run(console, roots, packages, sample, args.seed, tmp / "mutation.sqlite")
        OUT.mkdir(parents=True, exist_ok=True)
        shutil.copy2(tmp / "mutation.sqlite", OUT / "mutation.sqlite")
    finally:
        if args.keep:
            console.print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    result.update(quick=args.quick, sample=sample, seed=args.seed, jobs=jobs)
    print(json.dumps(result))


def run(
    console: Console, roots: list[Path], packages: list[str], sample: int | None, seed: int, db_path: Path
) -> dict[str, object]:
    tallies = {pkg: Tally() for pkg in packages}
    with pushd(roots[0]):  # work items name paths relative to a copy
        modules = sorted(m for pkg in packages for m in find_modules([Path(pkg)]))
        items = list(mutants(modules))
        with use_db(str(db_path), WorkDB.Mode.create) as db:
            db.clear()
            db.add_work_items(items)
    by_pkg: dict[str, list[WorkItem]] = {pkg: [] for pkg in packages}
    for item in sorted(items, key=describe):
        by_pkg[package_of(str(item.mutations[0].module_path))].append(item)
    rng = random.Random(seed)
    chosen: dict[str, list[WorkItem]] = {}
    skipped: list[str] = []
    for pkg, pkg_items in by_pkg.items():
        tallies[pkg].total = len(pkg_items)
        picked = pkg_items if sample is None or sample >= len(pkg_items) else rng.sample(pkg_items, sample)
        chosen[pkg] = picked
        tallies[pkg].planned = len(picked)
        keep = {i.job_id for i in picked}
        skipped += [i.job_id for i in pkg_items if i.job_id not in keep]
    lock = threading.Lock()
    with use_db(str(db_path), WorkDB.Mode.open) as db:
        if skipped:
            db.set_multiple_results(skipped, WorkResult(worker_outcome=WorkerOutcome.SKIPPED))
        free: queue.Queue[Path] = queue.Queue()
        for root in roots:
            free.put(root)
        survivors_text: list[str] = []
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console) as progress:
            for pkg in packages:
                tests = PACKAGES[pkg]
                tally = tallies[pkg]
                task = progress.add_task(f"{pkg}: baseline", total=tally.planned)
                outcome, output, seconds = run_tests(roots[0], tests, timeout=3600)
                if outcome is not TestOutcome.SURVIVED:
                    raise SystemExit(
                        f"the unmutated tests fail for {pkg} ({' '.join(tests)}):\n{output[-3000:]}"
                    )
                timeout = 3 * seconds + 30

                def one(item: WorkItem, tests: tuple[str, ...] = tests, timeout: float = timeout) -> None:
                    root = free.get()
                    try:
                        res = mutate_and_test(item, root, tests, timeout)
                    finally:
                        free.put(root)
                    with lock:
                        db.set_result(item.job_id, res)
                        record(
                            tallies[package_of(str(item.mutations[0].module_path))], item, res, survivors_text
                        )

                def label(pkg: str = pkg, tally: Tally = tally, seconds: float = seconds) -> str:
                    return (
                        f"{pkg} (baseline {seconds:.0f} s): {tally.killed} killed, {tally.survived} survived"
                    )

                progress.update(task, description=label())
                with ThreadPoolExecutor(max_workers=len(roots)) as pool:
                    for fut in [pool.submit(one, item) for item in chosen[pkg]]:
                        fut.result()
                        progress.update(task, advance=1, description=label())
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "mutation-survivors.txt").write_text(
        "\n\n".join(survivors_text) + "\n" if survivors_text else "no survivors\n"
    )
    report(console, tallies)
    plot(tallies, OUT / "mutation.png")
    killed = sum(t.killed for t in tallies.values())
    survived = sum(t.survived for t in tallies.values())
    return {
        "killed": killed,
        "survived": survived,
        "kill_rate": round(killed / (killed + survived), 4) if killed + survived else None,
        "per_package": {
            pkg: {
                "killed": t.killed,
                "survived": t.survived,
                "kill_rate": t.kill_rate,
                "kill_rate_ci95": wilson(t.killed, t.killed + t.survived),
                "survivors": t.survivors,
                "mutants": t.total,
                "run": t.planned,
                "timeouts": t.timeouts,
                "not_applied": t.errors,
            }
            for pkg, t in tallies.items()
        },
        "target_kill_rate": TARGET_KILL_RATE,
        "mutants": sum(t.total for t in tallies.values()),
    }


def record(tally: Tally, item: WorkItem, res: WorkResult, survivors_text: list[str]) -> None:
    if res.worker_outcome is not WorkerOutcome.NORMAL:
        tally.errors += 1
    elif res.test_outcome is TestOutcome.SURVIVED:
        tally.survived += 1
        tally.survivors.append(describe(item))
        survivors_text.append(f"# {describe(item)}\n{res.diff}")
    else:
        tally.killed += 1
        tally.timeouts += res.output == "timeout"


def report(console: Console, tallies: dict[str, Tally]) -> None:
    table = Table(title=f"mutants killed by the tests (target kill rate {TARGET_KILL_RATE})")
    for col in (
        "package",
        "mutants",
        "run",
        "killed",
        "of them timeouts",
        "survived",
        "not applied",
        "kill rate",
    ):
        table.add_column(col)
    for pkg, t in tallies.items():
        rate = "-" if t.kill_rate is None else f"{t.kill_rate:.2f}"
        table.add_row(
            pkg,
            str(t.total),
            str(t.planned),
            str(t.killed),
            str(t.timeouts),
            str(t.survived),
            str(t.errors),
            rate,
        )
    console.print(table)
    for t in tallies.values():
        for s in t.survivors:
            console.print(f"survived: {s}")
    console.print(f"survivors with diffs: {OUT / 'mutation-survivors.txt'}")


def plot(tallies: dict[str, Tally], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(tallies)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    x = range(len(names))
    ax1.bar(x, [tallies[n].killed for n in names], label="killed")
    ax1.bar(
        x, [tallies[n].survived for n in names], bottom=[tallies[n].killed for n in names], label="survived"
    )
    ax1.set_xticks(list(x), names, rotation=30, ha="right")
    ax1.set_ylabel("mutants run")
    ax1.legend()
    ax2.bar(x, [tallies[n].kill_rate or 0.0 for n in names])
    ax2.axhline(TARGET_KILL_RATE, color="tab:red", linestyle="--", label=f"target {TARGET_KILL_RATE}")
    ax2.set_xticks(list(x), names, rotation=30, ha="right")
    ax2.set_ylim(0, 1)
    ax2.set_ylabel("kill rate")
    ax2.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
