"""Runs a command that must fail, and fail within a bound: prints its
output, then "failed with exit status N within S s"; exits non-zero if the
command succeeded or was still running after S seconds (it is then killed,
with its process group).

Usage: fails_within.py SECONDS COMMAND...
"""
import os
import signal
import subprocess
import sys
import time

limit = float(sys.argv[1])
start = time.monotonic()
child = subprocess.Popen(sys.argv[2:], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True,
                         start_new_session=True)
try:
    out, _ = child.communicate(timeout=limit)
except subprocess.TimeoutExpired:
    os.killpg(child.pid, signal.SIGKILL)
    out, _ = child.communicate()
    print(out)
    sys.exit(f"still running after {limit:g} s")
print(out)
if child.returncode == 0:
    sys.exit("succeeded, but should have failed")
print(f"failed with exit status {child.returncode} within {limit:g} s "
      f"({time.monotonic() - start:.0f} s)")
