#!/usr/bin/python3
"""Plots the loss curves of a `tape-run --log` file.

Usage: plot_log.py RUN.jsonl [MORE.jsonl ...] -o loss.svg|loss.png
       [--title TEXT] [--no-accuracy]

Each training line ({"step", "epoch", "outputs": [loss, ...], ...}) gives a
point of the training loss (the first scalar output); each evaluation line
({"step", "eval", "outputs": [...], "accuracy"?}) a point of the validation
loss and, when present, of the validation accuracy (right axis). Several
logs are drawn on one figure, labelled by file name. Needs Debian's
python3-matplotlib (scripts/setup.sh installs it).
"""
import argparse
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402


def read_log(path):
    """(train steps, train losses, eval steps, eval losses, eval steps with
    accuracy, accuracies) of one log file."""
    train, evals = ([], []), ([], [], [], [])
    with open(path) as f:
        for number, text in enumerate(f, 1):
            if not text.strip():
                continue
            try:
                line = json.loads(text)
                step, outputs = line["step"], line["outputs"]
            except (ValueError, KeyError, TypeError) as e:
                sys.exit(f"{path}:{number}: not a tape-run --log line ({e})")
            loss = outputs[0] if outputs else None
            if "eval" in line:
                if loss is not None:
                    evals[0].append(step)
                    evals[1].append(loss)
                if "accuracy" in line:
                    evals[2].append(step)
                    evals[3].append(line["accuracy"])
            elif loss is not None:
                train[0].append(step)
                train[1].append(loss)
    return train, evals


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logs", nargs="+")
    parser.add_argument("-o", "--output", required=True,
                        help="the picture: .svg or .png")
    parser.add_argument("--title", default="")
    parser.add_argument("--no-accuracy", action="store_true")
    args = parser.parse_args()
    if os.path.splitext(args.output)[1] not in (".svg", ".png"):
        sys.exit(f"{args.output}: name a .svg or .png file")

    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    acc_ax = None
    drawn = 0
    for path in args.logs:
        name = os.path.basename(path)
        (ts, tl), (es, el, as_, acc) = read_log(path)
        tag = f" ({name})" if len(args.logs) > 1 else ""
        if ts:
            ax.plot(ts, tl, linewidth=1, label="training loss" + tag)
            drawn += 1
        if es:
            ax.plot(es, el, "o-", markersize=3, label="validation loss" + tag)
            drawn += 1
        if as_ and not args.no_accuracy:
            acc_ax = acc_ax or ax.twinx()
            acc_ax.plot(as_, acc, "s--", color="tab:green", markersize=3,
                        label="validation accuracy" + tag)
            acc_ax.set_ylabel("accuracy")
            acc_ax.set_ylim(0, 1)
    if not drawn:
        sys.exit("no loss in " + ", ".join(args.logs) +
                 " (a step with a scalar first output logs one)")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.grid(True, alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    if acc_ax:
        h2, l2 = acc_ax.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    ax.legend(handles, labels, loc="center right")
    if args.title:
        ax.set_title(args.title)
    fig.tight_layout()
    # No timestamps in the file, so a picture in the repository changes
    # only when the curves do.
    metadata = {"Date": None} if args.output.endswith(".svg") else {}
    fig.savefig(args.output, metadata=metadata)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
