#!/usr/bin/python3
"""Where a compiled train step spends its time, per line of the .mlir file.

Runs tape-run under `perf record` with line tables (`tape-run -g`) and
LLVM's perf JIT listener (TAPE_PERF_JITDUMP=1), injects the JIT's code
into the profile (`perf inject --jit`) and attributes every sample in the
compiled step to the source line its instruction came from (ops that AD,
fusion or the kernels derived from a source op keep its line: a
convolution's line counts its im2col, matmuls, col2im and adjoints).

  /usr/bin/python3 scripts/profile_lines.py MODEL.mlir [tape-run options]
      [--tape-run build/bin/tape-run] [--top 25]

e.g. scripts/profile_lines.py examples/cnn/mnist_cnn.mlir --steps 20
       --input x.npy --input y.npy

Prints the share of the compiled code's samples per line, with the line's
text; line 0 is code with no source location (the pipeline's own loops,
such as packing buffers shared by several matmuls). Needs perf (Debian's
linux-perf) and llvm-dwarfdump (llvm-22-tools); perf may need
`sysctl kernel.perf_event_paranoid=1` as a user.
"""
import argparse
import bisect
import collections
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    parser = argparse.ArgumentParser(usage=__doc__)
    parser.add_argument("model")
    parser.add_argument("--tape-run", default=os.path.join(ROOT, "build/bin/tape-run"))
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--dwarfdump", default="/usr/lib/llvm-22/bin/llvm-dwarfdump")
    opts, run_args = parser.parse_known_args()
    for tool in ("perf", opts.dwarfdump):
        if not shutil.which(tool):
            sys.exit(f"profile_lines: {tool} not found")
    with tempfile.TemporaryDirectory() as work:
        env = dict(os.environ, TAPE_PERF_JITDUMP="1", JITDUMPDIR=work)
        data, injected = os.path.join(work, "perf.data"), os.path.join(work, "perf.jit.data")
        subprocess.run(["perf", "record", "-q", "-k", "1", "-o", data, opts.tape_run, "-g",
                        "--quiet", opts.model] + run_args, env=env, check=True)
        subprocess.run(["perf", "inject", "--jit", "-i", data, "-o", injected],
                       env=env, check=True, stderr=subprocess.DEVNULL)
        script = subprocess.run(["perf", "script", "-i", injected, "--show-mmap-events",
                                 "-F", "ip,dso"], env=env, check=True,
                                capture_output=True, text=True).stdout
        # Where each jitted object is mapped, and the samples in each.
        maps, samples = {}, collections.defaultdict(collections.Counter)
        for line in script.splitlines():
            m = re.search(r"MMAP2? .*\[(0x[0-9a-f]+)\((0x[0-9a-f]+)\) @ (0x[0-9a-f]+) .*?(\S*jitted-\d+-\d+\.so)", line)
            if m:
                maps[m.group(4)] = (int(m.group(1), 16), int(m.group(3), 16))
                continue
            m = re.match(r"\s*([0-9a-f]+) \((\S*jitted-\d+-\d+\.so)\)", line)
            if m:
                samples[m.group(2)][int(m.group(1), 16)] += 1
        by_line, total = collections.Counter(), 0
        for so, counts in samples.items():
            if so not in maps:
                continue
            start, offset = maps[so]
            table = subprocess.run([opts.dwarfdump, "--debug-line", so], check=True,
                                   capture_output=True, text=True).stdout
            rows = sorted((int(r.split()[0], 16), int(r.split()[1]))
                          for r in table.splitlines() if r.startswith("0x"))
            addresses = [a for a, _ in rows]
            for ip, n in counts.items():
                i = bisect.bisect_right(addresses, ip - start + offset) - 1
                by_line[rows[i][1] if i >= 0 else 0] += n
                total += n
    if not total:
        sys.exit("profile_lines: no samples in compiled code (did the step run?)")
    with open(opts.model) as f:
        source = f.read().splitlines()
    print(f"{total} samples in the compiled code of {opts.model}")
    for line, n in by_line.most_common(opts.top):
        text = source[line - 1].strip() if 0 < line <= len(source) else "(no source location)"
        print(f"{100.0 * n / total:5.1f}%  {line:5d}  {text[:100]}")


if __name__ == "__main__":
    main()
