"""Runs tape-import-torch's command line once per `# CASE(NAME) ARGS` line
of a test file, in this one process (importing torch once instead of once
per case), printing `== NAME`, what the command printed on stderr and
`exit: STATUS` for each. %t and %S in ARGS are the given work and source
folders.

Usage: run_cases.py TEST_FILE WORKDIR SOURCE_DIR
"""
import contextlib
import io
import os
import shlex
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "..", "..", "python"))
from tape_import_torch.cli import main  # noqa: E402

test, work, source = sys.argv[1:4]
for line in open(test):
    if not line.startswith("# CASE("):
        continue
    name, _, args = line[len("# CASE("):].partition(")")
    args = args.replace("%t", work).replace("%S", source)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            status = main(shlex.split(args))
        except SystemExit as e:
            status = e.code
    print(f"== {name}")
    print(err.getvalue(), end="")
    print(f"exit: {status}")
