"""Kills tape-run with SIGKILL at random moments of a training run that
checkpoints after every step, resumes each time from the checkpoint, and
checks that the final variables (optimizer slots and step count included)
are bit-identical to an uninterrupted run: no checkpoint is ever lost or
half-written.

Usage: kill_resume.py TAPE_RUN MODEL WORKDIR KILLS
"""
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np

tape_run, model, work, kills = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
STEPS = 20000
rng = random.Random(7)

straight = f"{work}/straight.npz"
subprocess.run([tape_run, model, "--until-step", str(STEPS), "--quiet",
                "--save-vars", straight], check=True)

ckpt = f"{work}/run.ckpt"
final = f"{work}/resumed.npz"
for name in (ckpt, final):
    if os.path.exists(name):
        os.unlink(name)
killed = 0
attempts = 0
while True:
    attempts += 1
    args = [tape_run, model, "--until-step", str(STEPS), "--quiet",
            "--checkpoint", ckpt, "--checkpoint-every", "1",
            "--save-vars", final]
    if os.path.exists(ckpt):
        args += ["--resume", ckpt]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    if killed < kills:
        # Compiling takes ~0.1-0.3 s; kill anywhere in compile or training.
        time.sleep(rng.uniform(0.05, 0.6))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            killed += 1
            continue
    _, err = proc.communicate()
    if proc.returncode != 0:
        print(f"FAIL: run {attempts} exited with {proc.returncode}: {err.decode()}")
        sys.exit(1)
    if os.path.exists(final):
        break

a, b = np.load(straight), np.load(final)
same = sorted(a.files) == sorted(b.files) and all(
    a[k].tobytes() == b[k].tobytes() for k in a.files)
print(f"{killed} kills, {attempts} runs, {len(a.files)} variables: "
      f"{'bit-identical' if same else 'DIFFERENT'}")
sys.exit(0 if same else 1)
