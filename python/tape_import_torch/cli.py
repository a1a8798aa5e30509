"""tape-import-torch's command line."""
import argparse
import os
import sys

import numpy as np

from . import spec
from .errors import ImportFailure
from .program import build

USAGE_EXAMPLE = """example:
  tape-import-torch examples/cnn/model.py:Net --input 64x1x28x28xf32 \\
      --target 64xi64 --loss nll_loss --optimizer 'Adam(lr=1e-3)' -o cnn.mlir
  tape-run cnn.mlir --init cnn.npz --input x.npy --input labels.npy --steps 100
"""


def parser():
    p = argparse.ArgumentParser(
        prog="tape-import-torch",
        description="Import a PyTorch nn.Module, its loss and its torch.optim "
                    "optimizer as a tape train step (@train_step), with "
                    "@predict (the forward pass in evaluation mode) and "
                    "@evaluate (the loss and the outputs).",
        epilog=USAGE_EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version",
                   version="tape-import-torch (tape) " +
                   os.environ.get("TAPE_VERSION", "(run from the sources)"),
                   help="print tape's version and PyTorch's, and exit")
    p.add_argument("model", help="FILE.py:FACTORY or package.module:FACTORY, a class "
                   "or function returning the nn.Module; literal arguments may "
                   "follow: model.py:make(hidden=64)")
    p.add_argument("--input", action="append", default=[], metavar="[NAME=]SHAPE",
                   help="an input of forward(), as an MLIR tensor type without "
                        "'tensor<>': 64x784xf32, ids=4x64xi64 (repeat per input)")
    p.add_argument("--target", action="append", default=[], metavar="[NAME=]SHAPE",
                   help="a target the loss takes after the model's output: 64xi64 "
                        "(repeat per target)")
    p.add_argument("--loss", required=True,
                   help="cross_entropy, nll_loss, mse_loss or "
                        "binary_cross_entropy_with_logits, with keyword arguments "
                        "if any (cross_entropy(label_smoothing=0.1)); or a function "
                        "loss(output, *targets) of the model's file, or FILE.py:NAME")
    p.add_argument("--optimizer", required=True,
                   help="a torch.optim call over all parameters: 'SGD(lr=0.1, "
                        "momentum=0.9)', 'Adam(lr=1e-3)', 'AdamW(lr=3e-4, "
                        "weight_decay=0.1)'; or a function of the model's file "
                        "taking the model and returning an optimizer (parameter "
                        "groups), or FILE.py:NAME")
    p.add_argument("-o", "--output", required=True, metavar="FILE.mlir",
                   help="the module to write")
    p.add_argument("--weights", metavar="FILE.npz",
                   help="where to write the variables' values for tape-run --init "
                        "(default: the output with .npz)")
    p.add_argument("--bake-weights", action="store_true",
                   help="put the values in the module as the variables' initial "
                        "values instead (no .npz)")
    p.add_argument("--no-eval", action="store_true",
                   help="write the train step only, without @predict and @evaluate "
                        "(compiles in about half the time)")
    p.add_argument("--step-name", default="train_step",
                   help="the train step's name (default: train_step)")
    p.add_argument("--seed", type=int, default=0,
                   help="torch.manual_seed before building the model (its initial "
                        "weights), and the base of the dropout ops' seeds")
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        import torch
        torch.manual_seed(args.seed)
        model, user_module = spec.model_factory(args.model)
        names = spec.forward_names(model, len(args.input))
        inputs = [spec.tensor_spec(t, names[i]) for i, t in enumerate(args.input)]
        if not inputs:
            raise ImportFailure("give the shape of each input of forward() with --input")
        targets = [spec.tensor_spec(t, "target" if i == 0 else f"target{i}")
                   for i, t in enumerate(args.target)]
        loss, loss_name = spec.loss_function(args.loss, user_module)
        optimizer = spec.optimizer(args.optimizer, model, user_module)
        imported = build(model, inputs, targets, loss, optimizer,
                         bake_weights=args.bake_weights, step_name=args.step_name,
                         seed=args.seed, loss_name=loss_name,
                         evaluation_functions=not args.no_eval)
    except ImportFailure as e:
        print(e.render(), file=sys.stderr)
        return 1
    written = [args.output]
    init = ""
    try:
        with open(args.output, "w") as f:
            f.write(imported.mlir)
        if not args.bake_weights:
            npz = args.weights or os.path.splitext(args.output)[0] + ".npz"
            with open(npz, "wb") as f:
                np.savez(f, **imported.weights)
            written.append(npz)
            init = f" --init {npz}"
    except OSError as e:
        print(f"tape-import-torch: error: cannot write {e.filename}: {e.strerror}",
              file=sys.stderr)
        return 1
    for note in imported.notes:
        print(f"tape-import-torch: note: {note}", file=sys.stderr)
    feeds = " ".join(f"--input {s.name}.npy" for s in inputs + targets)
    print(f"tape-import-torch: wrote {' and '.join(written)}; train with:\n"
          f"  tape-run {args.output}{init} {feeds} --steps N", file=sys.stderr)
    return 0
