#!/usr/bin/python3
"""Checks that every op AD can differentiate is documented and executed.

Reads the list `tape-opt --test-print-differentiable-ops` prints (lines
`rule <op>` and `generic <op>`) and checks that

  * every op with a rule has a row in the table of docs/Differentiation.md
    and a case in scripts/gradcheck.py that uses it;
  * every op the table lists has a gradcheck case that uses it, and is
    one AD knows (a rule, a linalg op through the generic rule, or one the
    reverse sweep handles itself: the table marks those "sweep", or a TOSA
    op the pipeline lowers to linalg first: "lowered").

Prints what is missing and exits with 1, or prints a summary. Usage:

  tape-opt --test-print-differentiable-ops /dev/null > ops.txt
  check_rule_coverage.py ops.txt [--doc docs/Differentiation.md]
"""
import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import gradcheck  # noqa: E402

OP = re.compile(r"\b((?:arith|math|linalg|tensor|scf|tape|tosa)\.[a-z_0-9]+)")


def documented_ops(path):
    """Op name -> how the table says it is differentiated."""
    ops = {}
    in_table = False
    with open(path) as f:
        for line in f:
            if line.startswith("<!-- differentiable ops -->"):
                in_table = True
                continue
            if line.startswith("<!-- end differentiable ops -->"):
                break
            if not in_table or not line.startswith("| `"):
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            how = cells[1]
            for name in re.findall(r"`([a-z_]+\.[a-z_0-9]+)`", cells[0]):
                ops[name] = how
    return ops


def checked_ops():
    """Op name -> the gradcheck cases whose body uses it."""
    used = {}
    for name, case in gradcheck.CASES.items():
        body = case[2] if isinstance(case, tuple) else str(case)
        for op in set(OP.findall(body)):
            used.setdefault(op, []).append(name)
    return used


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("ops")
    parser.add_argument("--doc", default=os.path.join(
        ROOT, "docs", "Differentiation.md"))
    opts = parser.parse_args()
    rules, generic = set(), set()
    with open(opts.ops) as f:
        for line in f:
            kind, _, name = line.strip().partition(" ")
            (rules if kind == "rule" else generic).add(name)
    doc = documented_ops(opts.doc)
    cases = checked_ops()
    problems = []
    for op in sorted(rules):
        if op.startswith("tape_test."):
            continue  # the test dialect's rule: tested by its own lit test
        if op not in doc:
            problems.append(f"{op} has a rule but no row in {opts.doc}")
        if op not in cases:
            problems.append(f"{op} has a rule but no case in gradcheck.py")
    for op, how in sorted(doc.items()):
        if op not in cases:
            problems.append(f"{op} is listed in {opts.doc} but no "
                            f"gradcheck.py case uses it")
        known = (op in rules or op in generic or how.startswith("sweep") or
                 (op.startswith("tosa.") and how.startswith("lowered")))
        if not known:
            problems.append(f"{op} is listed in {opts.doc} ({how}) but AD "
                            f"has no rule for it")
    for p in problems:
        print("check_rule_coverage: " + p)
    if problems:
        return 1
    print(f"check_rule_coverage: {len(doc)} ops documented and checked "
          f"({len(rules)} with rules, {len(generic)} linalg ops through the "
          f"generic rule)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
