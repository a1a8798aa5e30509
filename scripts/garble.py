#!/usr/bin/python3
"""Robustness check: run a tool on damaged variants of IR files.

For every input file, builds many variants (truncated at random points,
bytes flipped, lines dropped or duplicated, tokens swapped, delimiters
unbalanced) from a fixed seed and runs the tool on each. A variant may be
rejected or accepted, but the tool must exit normally: status 0, or status 1
with an `error:` diagnostic. A signal (crash, assertion abort), any other
status, an error without a diagnostic, or a run over the time limit fails
the check, and the offending variant is saved for reproduction.

One crash is known and upstream: MLIR 22's parsers of linalg.reduce,
linalg.transpose and linalg.broadcast store a null attribute when their
integer-array attribute is malformed and then crash (SIGSEGV in
NamedAttrList::set under linalg::*Op::parse). Runs that die with exactly that
stack are counted and listed as "known upstream", not as failures; any other
crash fails the check. test/Robustness/upstream-linalg-reduce-dimensions.mlir
tracks the bug.
"""
import argparse
import concurrent.futures
import os
import random
import re
import subprocess
import sys
import tempfile

INTERESTING = [b"{", b"}", b"(", b")", b"<", b">", b"[", b"]", b":", b",",
               b"%", b"@", b"#tape.", b"!tape.resource<", b"tensor<?x",
               b"tape.record", b"tape.yield", b"tape.gradient", b"dense<",
               b"0xFFFFFFFF", b"-1", b"999999999999999999999", b"\"", b"^bb",
               b"\x00", b"\xff", b"// -----", b"tape.step", b"f32", b"i1"]


def variants(data, rng, count):
    """Yields (kind, bytes) pairs: deterministic damage of `data`."""
    lines = data.split(b"\n")
    for i in range(count):
        kind = i % 6
        if kind == 0 and data:  # truncation
            yield "truncate", data[: rng.randrange(len(data))]
        elif kind == 1 and data:  # byte flips
            buf = bytearray(data)
            for _ in range(rng.randint(1, 8)):
                pos = rng.randrange(len(buf))
                buf[pos] = rng.randrange(256)
            yield "flip", bytes(buf)
        elif kind == 2 and len(lines) > 1:  # drop a run of lines
            a = rng.randrange(len(lines))
            b = min(len(lines), a + rng.randint(1, 4))
            yield "drop-lines", b"\n".join(lines[:a] + lines[b:])
        elif kind == 3 and len(lines) > 1:  # duplicate or move a line
            out = list(lines)
            src = rng.randrange(len(out))
            out.insert(rng.randrange(len(out)), out[src])
            yield "dup-line", b"\n".join(out)
        elif kind == 4 and data:  # insert a token
            pos = rng.randrange(len(data))
            yield "insert", data[:pos] + rng.choice(INTERESTING) + data[pos:]
        elif data:  # replace a token-sized span
            pos = rng.randrange(len(data))
            end = min(len(data), pos + rng.randint(1, 12))
            yield "replace", data[:pos] + rng.choice(INTERESTING) + data[end:]


KNOWN_UPSTREAM = re.compile(
    r"mlir::linalg::(Reduce|Transpose|Broadcast)Op::parse")


def run_one(tool, extra_args, payload, timeout, workdir, name):
    path = os.path.join(workdir, name)
    with open(path, "wb") as f:
        f.write(payload)
    try:
        proc = subprocess.run([tool, path, "-o", os.devnull] + extra_args,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return path, f"timed out after {timeout} s"
    stderr = proc.stderr.decode("utf-8", "replace")
    if proc.returncode < 0 and KNOWN_UPSTREAM.search(stderr) and \
            "NamedAttrList::set" in stderr:
        os.unlink(path)
        return "known"
    if proc.returncode < 0:
        return path, f"killed by signal {-proc.returncode}:\n{stderr[-2000:]}"
    if proc.returncode not in (0, 1):
        return path, f"exit status {proc.returncode}:\n{stderr[-2000:]}"
    if proc.returncode == 1 and "error" not in stderr:
        return path, "failed without a diagnostic"
    os.unlink(path)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tool", required=True)
    ap.add_argument("--variants", type=int, default=30,
                    help="variants per input file")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--keep", default=None,
                    help="folder for failing variants (default: a temp dir)")
    ap.add_argument("--args", default="",
                    help="extra tool arguments, space separated")
    ap.add_argument("paths", nargs="+", help="files or folders of .mlir files")
    opts = ap.parse_args()

    inputs = []
    for p in opts.paths:
        if os.path.isdir(p):
            for root, _, files in os.walk(p):
                inputs += [os.path.join(root, f) for f in files
                           if f.endswith(".mlir")]
        else:
            inputs.append(p)
    # Inputs that document a known crash (lit XFAIL) would only rediscover it.
    inputs = sorted(p for p in inputs if b"XFAIL:" not in open(p, "rb").read())
    if not inputs:
        print("no input files", file=sys.stderr)
        return 2

    extra = opts.args.split() if opts.args else []
    workdir = opts.keep or tempfile.mkdtemp(prefix="garble-")
    os.makedirs(workdir, exist_ok=True)
    rng = random.Random(opts.seed)
    jobs = []
    with concurrent.futures.ThreadPoolExecutor(opts.jobs) as pool:
        for n, path in enumerate(inputs):
            with open(path, "rb") as f:
                data = f.read()
            base = os.path.basename(path)
            for i, (kind, payload) in enumerate(
                    variants(data, rng, opts.variants)):
                name = f"{n:03d}-{base}.{i:03d}.{kind}.mlir"
                args = extra + (["-split-input-file"]
                                if b"// -----" in payload else [])
                jobs.append(pool.submit(run_one, opts.tool, args, payload,
                                        opts.timeout, workdir, name))
        results = [j.result() for j in jobs]
    failures = [r for r in results if r and r != "known"]
    known = results.count("known")
    for path, why in failures:
        print(f"FAIL {path}: {why}")
    print(f"{len(jobs)} variants of {len(inputs)} files: "
          f"{len(jobs) - len(failures) - known} passed, {len(failures)} failed"
          + (f", {known} hit the known upstream linalg parser crash"
             if known else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
