"""Compare two results directories byte for byte: every ``metrics.json`` and ``summary.csv``.

    python benchmarks/compare_results.py RESULTS_A RESULTS_B

A refactor must leave the experiment's numbers unchanged: this lists every
file that differs or exists on one side only, with the first differing line,
and exits 1 if there is any (0 when all are identical).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

PATTERNS = ("**/metrics.json", "summary.csv", "sweeps/*/summary.csv", "sweeps/*/runs.csv")


def compared_files(root: Path) -> set[str]:
    """Paths (relative to ``root``) of the files to compare."""
    return {str(p.relative_to(root)) for pattern in PATTERNS for p in root.glob(pattern) if p.is_file()}


def first_difference(a: bytes, b: bytes) -> str:
    """The first line that differs, for the report."""
    for i, (la, lb) in enumerate(zip(a.splitlines(), b.splitlines(), strict=False), start=1):
        if la != lb:
            return f"line {i}: {la.decode(errors='replace')!r} != {lb.decode(errors='replace')!r}"
    return f"one file is a prefix of the other ({len(a)} vs {len(b)} bytes)"


def compare(a: Path, b: Path) -> list[str]:
    """One line per difference between the results directories ``a`` and ``b``."""
    files_a, files_b = compared_files(a), compared_files(b)
    problems = [f"only in {a}: {f}" for f in sorted(files_a - files_b)]
    problems += [f"only in {b}: {f}" for f in sorted(files_b - files_a)]
    for f in sorted(files_a & files_b):
        bytes_a, bytes_b = (a / f).read_bytes(), (b / f).read_bytes()
        if bytes_a != bytes_b:
            problems.append(f"differs: {f}: {first_difference(bytes_a, bytes_b)}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results_a", type=Path)
    parser.add_argument("results_b", type=Path)
    args = parser.parse_args(argv)
    for root in (args.results_a, args.results_b):
        if not root.is_dir():
            parser.error(f"{root} is not a directory")
    n = len(compared_files(args.results_a) | compared_files(args.results_b))
    problems = compare(args.results_a, args.results_b)
    for line in problems:
        print(line)
    print(f"{n} files compared: {'all identical' if not problems else f'{len(problems)} difference(s)'}")
    return 1 if problems or n == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
