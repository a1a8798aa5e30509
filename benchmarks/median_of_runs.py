#!/usr/bin/python3
"""Median, per cell, of the ratio columns of several train_steps.py runs.

On a shared machine one run can be off by 30% in either direction for any
single implementation. Each run's ratios are measured within that run;
this takes the median over runs of each ratio (and of each time), which is
what docs/Performance.md reports.

Usage: train_steps.py ... > run1.txt (several times)
       median_of_runs.py run1.txt run2.txt run3.txt
"""
import statistics
import sys


def first_table(path):
    """The per-step table of a train_steps.py output: header, rows."""
    lines = open(path).read().splitlines()
    start = next(i for i, l in enumerate(lines)
                 if l.startswith("Per-step median time"))
    rows = []
    for line in lines[start + 1:]:
        if line.startswith("|"):
            rows.append(line)
        elif rows:
            break  # the end of the first table
    cells = [[c.strip() for c in r.strip("|").split("|")] for r in rows]
    return cells[0], [c for c in cells[2:]]


def seconds(cell):
    value, unit = cell.split()
    return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[unit]


def fmt(s):
    return (f"{s * 1e6:.2f} us" if s < 1e-5 else f"{s * 1e6:.1f} us"
            if s < 1e-3 else f"{s * 1e3:.2f} ms")


def main():
    runs = [first_table(p) for p in sys.argv[1:]]
    header = runs[0][0]
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for r, row in enumerate(runs[0][1]):
        out = row[:2]
        for c in range(2, len(header)):
            values = [run[1][r][c] for run in runs]
            try:
                if "/" in header[c]:
                    out.append(f"{statistics.median(float(v) for v in values):.2f}")
                else:
                    out.append(fmt(statistics.median(seconds(v)
                                                     for v in values)))
            except ValueError:
                out.append("-")
        print("| " + " | ".join(out) + " |")
    print(f"\n(median over {len(runs)} runs of each cell)")


if __name__ == "__main__":
    main()
