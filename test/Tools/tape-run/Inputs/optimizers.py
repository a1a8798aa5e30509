"""Checks SGD, momentum (plain and Nesterov) and Adam against their update
formulas (Keras'), and AdamW and Adadelta against PyTorch's
(torch.optim.AdamW, with no decay torch.optim.Adam; torch.optim.Adadelta),
over several steps (SGD also with PyTorch's weight decay, and after
tape.clip_by_global_norm): a linear least-squares model is
trained with tape-run, and its variables, slots and step count are compared
with a float64 numpy implementation of the formulas.

The AdamW reference below equals torch.optim.AdamW and torch.optim.Adam in
float64 to 1e-16 on this model (checked once with Debian's python3-torch
1.13; the test itself needs no torch).

Usage: optimizers.py TAPE_RUN WORKDIR
"""
import subprocess
import sys
import zipfile
import io

import numpy as np

STEPS = 6
RTOL = 1e-5
# Adam's 1 - beta2^t cancels (0.999^t is close to 1): in float32 that alone
# costs ~1e-5 relative, as it does in Keras' float32 implementation.
RTOL_ADAM = 1e-4

MODEL = """
module {
  tape.variable @w : tensor<3x1xf32> = dense<[[0.5], [-0.3], [0.8]]>
  tape.variable @b : tensor<1xf32> = dense<[0.1]>
  tape.step @train_step() -> tensor<f32> {
    %x = arith.constant dense<[[1.0, 2.0, -1.0], [0.5, -1.5, 2.0], [-2.0, 0.3, 1.0], [1.5, 1.0, 0.5]]> : tensor<4x3xf32>
    %y = arith.constant dense<[[1.0], [-2.0], [0.5], [3.0]]> : tensor<4x1xf32>
    %quarter = arith.constant dense<0.25> : tensor<f32>
    %zero = arith.constant 0.0 : f32
    %hw = tape.handle @w : !tape.resource<tensor<3x1xf32>>
    %hb = tape.handle @b : !tape.resource<tensor<1xf32>>
    %t, %loss = tape.record {
      %w = tape.read %hw : !tape.resource<tensor<3x1xf32>>
      %b = tape.read %hb : !tape.resource<tensor<1xf32>>
      %e = tensor.empty() : tensor<4x1xf32>
      %z = linalg.fill ins(%zero : f32) outs(%e : tensor<4x1xf32>) -> tensor<4x1xf32>
      %p = linalg.matmul ins(%x, %w : tensor<4x3xf32>, tensor<3x1xf32>) outs(%z : tensor<4x1xf32>) -> tensor<4x1xf32>
      %bb = linalg.broadcast ins(%b : tensor<1xf32>) outs(%e : tensor<4x1xf32>) dimensions = [0]
      %q = arith.addf %p, %bb : tensor<4x1xf32>
      %d = arith.subf %q, %y : tensor<4x1xf32>
      %sq = arith.mulf %d, %d : tensor<4x1xf32>
      %e0 = tensor.empty() : tensor<f32>
      %z0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<f32>) -> tensor<f32>
      %s = linalg.reduce ins(%sq : tensor<4x1xf32>) outs(%z0 : tensor<f32>) dimensions = [0, 1]
        (%in: f32, %acc: f32) {
          %r = arith.addf %in, %acc : f32
          linalg.yield %r : f32
        }
      %l = arith.mulf %s, %quarter : tensor<f32>
      tape.yield %l : tensor<f32>
    } : tensor<f32>
    %g:2 = tape.gradient %t (%loss : tensor<f32>) wrt (%hw, %hb : !tape.resource<tensor<3x1xf32>>, !tape.resource<tensor<1xf32>>)
    tape.apply_gradients OPTIMIZER (%g#0, %g#1 : tensor<3x1xf32>, tensor<1xf32>) to (%hw, %hb : !tape.resource<tensor<3x1xf32>>, !tape.resource<tensor<1xf32>>)
    tape.return %loss : tensor<f32>
  }
}
"""

X = np.array([[1.0, 2.0, -1.0], [0.5, -1.5, 2.0], [-2.0, 0.3, 1.0],
              [1.5, 1.0, 0.5]])
Y = np.array([[1.0], [-2.0], [0.5], [3.0]])


def grads(w, b):
    d = X @ w + b - Y
    return X.T @ d * 0.5, d.sum(axis=0) * 0.5


def run(tape_run, work, name, attr):
    path = f"{work}/{name}.mlir"
    model = MODEL.replace("OPTIMIZER", attr)
    if attr.startswith("SCHEDULE "):
        # The learning rate as a value: attribute's rate times 0.5^t, t a
        # step count the step keeps in a variable of its own.
        optimizer = attr.split(" ", 1)[1]
        base_lr = float(optimizer.split("learning_rate = ")[1].split(",")[0].split(">")[0])
        model = MODEL.replace(
            "module {\n",
            "module {\n  tape.variable @t : tensor<f32> = dense<0.0> {trainable = false}\n", 1)
        model = model.replace(
            "    tape.apply_gradients OPTIMIZER (%g#0, %g#1 : tensor<3x1xf32>, tensor<1xf32>) to (%hw, %hb : !tape.resource<tensor<3x1xf32>>, !tape.resource<tensor<1xf32>>)",
            "    %ht = tape.handle @t : !tape.resource<tensor<f32>>\n"
            "    %tv = tape.read %ht : !tape.resource<tensor<f32>>\n"
            "    %half = arith.constant dense<0.5> : tensor<f32>\n"
            f"    %lr0 = arith.constant dense<{base_lr}> : tensor<f32>\n"
            "    %decay = math.powf %half, %tv : tensor<f32>\n"
            "    %lr = arith.mulf %lr0, %decay : tensor<f32>\n"
            f"    tape.apply_gradients {optimizer} (%g#0, %g#1 : tensor<3x1xf32>, tensor<1xf32>) to (%hw, %hb : !tape.resource<tensor<3x1xf32>>, !tape.resource<tensor<1xf32>>) learning_rate(%lr : tensor<f32>)\n"
            "    %one = arith.constant dense<1.0> : tensor<f32>\n"
            "    tape.assign_add %ht, %one : !tape.resource<tensor<f32>>")
        assert "learning_rate(%lr" in model
    if attr.startswith("CLIP "):
        # tape.clip_by_global_norm between the gradients and the update.
        # The norm it returns (before clipping) is kept in a variable,
        # so the last step's norm is checked too.
        _, max_norm, optimizer = attr.split(" ", 2)
        model = MODEL.replace(
            "module {\n",
            "module {\n  tape.variable @norm : tensor<f32> = dense<0.0> {trainable = false}\n", 1)
        model = model.replace(
            "    tape.apply_gradients OPTIMIZER (%g#0, %g#1",
            f"    %c:3 = tape.clip_by_global_norm %g#0, %g#1 {{max_norm = {max_norm} : f64}} : tensor<3x1xf32>, tensor<1xf32>\n"
            "    %hn = tape.handle @norm : !tape.resource<tensor<f32>>\n"
            "    tape.assign %hn, %c#2 : !tape.resource<tensor<f32>>\n"
            f"    tape.apply_gradients {optimizer} (%c#0, %c#1")
        assert "tape.assign %hn" in model
    with open(path, "w") as f:
        f.write(model)
    npz = f"{work}/{name}.npz"
    subprocess.run([tape_run, path, "--steps", str(STEPS), "--quiet",
                    "--save-vars", npz], check=True)
    with zipfile.ZipFile(npz) as z:
        return {n[:-4]: np.load(io.BytesIO(z.read(n))) for n in z.namelist()}


def reference(kind, **p):
    w = np.array([[0.5], [-0.3], [0.8]])
    b = np.array([0.1])
    slots = {}
    vw, vb = np.zeros_like(w), np.zeros_like(b)
    mw, mb, sw, sb = (np.zeros_like(w), np.zeros_like(b), np.zeros_like(w),
                      np.zeros_like(b))
    base = dict(p)
    for t in range(1, STEPS + 1):
        p = dict(base)
        if "schedule" in p:
            # The step-decay schedule the SCHEDULE cases compute in the
            # step: lr * 0.5^(t - 1), t counting from 1.
            p["lr"] = base["lr"] * 0.5 ** (t - 1)
        gw, gb = grads(w, b)
        if "clip" in p:
            # torch.nn.utils.clip_grad_norm_: per-tensor norms, their norm,
            # min(1, max_norm / (norm + 1e-6)).
            total = np.sqrt(np.linalg.norm(gw) ** 2 + np.linalg.norm(gb) ** 2)
            coefficient = min(1.0, p["clip"] / (total + 1e-6))
            if t == 1:
                assert coefficient < 1.0, "the case must clip"
            gw, gb = gw * coefficient, gb * coefficient
            slots["norm"] = np.array(total)  # the last step's, unclipped
        if kind == "sgd":
            # torch.optim.SGD's coupled decay: g + wd * w.
            wd = p.get("wd", 0.0)
            w, b = w - p["lr"] * (gw + wd * w), b - p["lr"] * (gb + wd * b)
        elif kind == "momentum":
            vw = p["m"] * vw - p["lr"] * gw
            vb = p["m"] * vb - p["lr"] * gb
            if p["nesterov"]:
                w = w + p["m"] * vw - p["lr"] * gw
                b = b + p["m"] * vb - p["lr"] * gb
            else:
                w, b = w + vw, b + vb
            slots = {"w__momentum": vw, "b__momentum": vb}
        elif kind == "adamw":
            # torch.optim.AdamW's single-tensor update, in float64.
            b1, b2, eps, lr, wd = p["b1"], p["b2"], p["eps"], p["lr"], p["wd"]
            w, b = w * (1 - lr * wd), b * (1 - lr * wd)
            mw, mb = mw + (gw - mw) * (1 - b1), mb + (gb - mb) * (1 - b1)
            sw, sb = sw * b2 + gw * gw * (1 - b2), sb * b2 + gb * gb * (1 - b2)
            step = lr / (1 - b1 ** t)
            c2 = np.sqrt(1 - b2 ** t)
            w = w - step * mw / (np.sqrt(sw) / c2 + eps)
            b = b - step * mb / (np.sqrt(sb) / c2 + eps)
            slots = {"w__adamw_m": mw, "w__adamw_v": sw, "b__adamw_m": mb,
                     "b__adamw_v": sb, "w__adamw_step": np.array(STEPS), "b__adamw_step": np.array(STEPS)}
        elif kind == "adadelta":
            # torch.optim.Adadelta's single-tensor update, in float64.
            lr, rho, eps, wd = p["lr"], p["rho"], p["eps"], p["wd"]
            gw, gb = gw + wd * w, gb + wd * b
            vw, vb = vw * rho + gw * gw * (1 - rho), vb * rho + gb * gb * (1 - rho)
            dw = np.sqrt(mw + eps) / np.sqrt(vw + eps) * gw
            db = np.sqrt(mb + eps) / np.sqrt(vb + eps) * gb
            mw, mb = mw * rho + dw * dw * (1 - rho), mb * rho + db * db * (1 - rho)
            w, b = w - lr * dw, b - lr * db
            slots = {"w__adadelta_v": vw, "w__adadelta_u": mw,
                     "b__adadelta_v": vb, "b__adadelta_u": mb}
        else:
            b1, b2, eps = p["b1"], p["b2"], p["eps"]
            alpha = p["lr"] * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            mw, mb = mw + (gw - mw) * (1 - b1), mb + (gb - mb) * (1 - b1)
            sw, sb = sw + (gw * gw - sw) * (1 - b2), sb + (gb * gb - sb) * (1 - b2)
            w = w - alpha * mw / (np.sqrt(sw) + eps)
            b = b - alpha * mb / (np.sqrt(sb) + eps)
            slots = {"w__adam_m": mw, "w__adam_v": sw, "b__adam_m": mb,
                     "b__adam_v": sb, "w__adam_step": np.array(STEPS), "b__adam_step": np.array(STEPS)}
    if "schedule" in base:
        slots["t"] = np.array(float(STEPS))  # the schedule's step count
    return {"w": w, "b": b, **slots}


def main():
    tape_run, work = sys.argv[1:3]
    cases = [
        ("sgd", "#tape.sgd<learning_rate = 0.05>", "sgd", dict(lr=0.05)),
        ("sgd_decay", "#tape.sgd<learning_rate = 0.05, weight_decay = 0.2>",
         "sgd", dict(lr=0.05, wd=0.2)),
        # Learning rates as values: a step-decay schedule computed in the
        # step from a variable (the attribute's rate is its base).
        ("sgd_schedule", "SCHEDULE #tape.sgd<learning_rate = 0.05>", "sgd",
         dict(lr=0.05, schedule=True)),
        ("adamw_schedule",
         "SCHEDULE #tape.adamw<learning_rate = 0.1, beta1 = 0.9, beta2 = 0.999, epsilon = 1.0e-08, weight_decay = 0.1>",
         "adamw", dict(lr=0.1, b1=0.9, b2=0.999, eps=1e-8, wd=0.1, schedule=True)),
        ("momentum_schedule",
         "SCHEDULE #tape.momentum<learning_rate = 0.05, momentum = 0.9, nesterov = true>",
         "momentum", dict(lr=0.05, m=0.9, nesterov=True, schedule=True)),
        ("adam_schedule",
         "SCHEDULE #tape.adam<learning_rate = 0.1, beta1 = 0.9, beta2 = 0.999, epsilon = 1.0e-07>",
         "adam", dict(lr=0.1, b1=0.9, b2=0.999, eps=1e-7, schedule=True)),
        ("adadelta_schedule",
         "SCHEDULE #tape.adadelta<learning_rate = 0.5, rho = 0.8, epsilon = 0.01, weight_decay = 0.1>",
         "adadelta", dict(lr=0.5, rho=0.8, eps=0.01, wd=0.1, schedule=True)),
        # Gradients clipped to a global norm of 0.5 before the update.
        ("sgd_clipped", "CLIP 0.5 #tape.sgd<learning_rate = 0.05>", "sgd",
         dict(lr=0.05, clip=0.5)),
        ("momentum", "#tape.momentum<learning_rate = 0.05, momentum = 0.9>",
         "momentum", dict(lr=0.05, m=0.9, nesterov=False)),
        ("nesterov",
         "#tape.momentum<learning_rate = 0.05, momentum = 0.9, nesterov = true>",
         "momentum", dict(lr=0.05, m=0.9, nesterov=True)),
        ("adam",
         "#tape.adam<learning_rate = 0.1, beta1 = 0.9, beta2 = 0.999, epsilon = 1.0e-07>",
         "adam", dict(lr=0.1, b1=0.9, b2=0.999, eps=1e-7)),
        ("adamw",
         "#tape.adamw<learning_rate = 0.1, beta1 = 0.9, beta2 = 0.999, epsilon = 1.0e-08, weight_decay = 0.1>",
         "adamw", dict(lr=0.1, b1=0.9, b2=0.999, eps=1e-8, wd=0.1)),
        # torch.optim.Adam: AdamW without decay; a large epsilon makes its
        # placement (after the bias correction) matter.
        ("adam_torch",
         "#tape.adamw<learning_rate = 0.1, beta1 = 0.8, beta2 = 0.99, epsilon = 0.1, weight_decay = 0.0>",
         "adamw", dict(lr=0.1, b1=0.8, b2=0.99, eps=0.1, wd=0.0)),
        # torch.optim.Adadelta; a large epsilon and a decay make every
        # term matter.
        ("adadelta",
         "#tape.adadelta<learning_rate = 0.5, rho = 0.8, epsilon = 0.01, weight_decay = 0.1>",
         "adadelta", dict(lr=0.5, rho=0.8, eps=0.01, wd=0.1)),
    ]
    failed = False
    for name, attr, kind, params in cases:
        got = run(tape_run, work, name, attr)
        want = reference(kind, **params)
        if sorted(got) != sorted(want):
            print(f"FAIL {name}: state has {sorted(got)}, expected {sorted(want)}")
            failed = True
            continue
        worst = max(float(np.max(np.abs(got[k] - want[k]) /
                                 np.maximum(np.abs(want[k]), 1e-3)))
                    for k in want)
        tolerance = RTOL_ADAM if kind.startswith("adam") else RTOL
        ok = worst <= tolerance
        failed |= not ok
        print(f"{'PASS' if ok else 'FAIL'} {name}: {len(want)} variables "
              f"(slots included) after {STEPS} steps, max relative error "
              f"{worst:.1e} (tolerance {tolerance:.0e})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
