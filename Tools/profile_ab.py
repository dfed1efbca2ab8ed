#!/usr/bin/env python3
"""Per-layer A/B of `blazepose profile`: several variants (binaries and/or flags) on one model,
alternating rounds (A B, B A, ...), each layer's figure the minimum over rounds of its per-op
median (the least disturbed by other load on the machine).

Prints, per op type (`CONV_2D sparse` apart from `CONV_2D`), the sum over its layers for each
variant and the total; `--split-pixels N` also splits each type into layers with at most and more
than N output pixels; `--layers K` lists the K layers whose time differs most between the first
two variants.

Usage (Python 3, standard library only):
  python3 Tools/profile_ab.py MODEL [--threads 1] [--rounds 6] [--iterations 100] \\
      [--split-pixels 64] [--layers 10] "label=BINARY [flags...]" "label=BINARY [flags...]" ...
e.g.
  python3 Tools/profile_ab.py weights/pose_landmark_full.tflite \\
      "l16=.build-native/release/blazepose" "l8=.build-native/release/blazepose --gemm-lanes 8"

Exit status 2 when a variant's `profile` fails (its stderr is shown).
"""
import argparse
import collections
import json
import shlex
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("variants", nargs="+", help='"label=BINARY [flags...]"')
    ap.add_argument("--threads", default="1")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--iterations", default="100")
    ap.add_argument("--split-pixels", type=int, default=None)
    ap.add_argument("--layers", type=int, default=0)
    args = ap.parse_args()
    variants = []
    for v in args.variants:
        if "=" not in v:
            ap.error(f"variant {v!r} is not label=BINARY [flags]")
        label, cmd = v.split("=", 1)
        variants.append((label, shlex.split(cmd)))
    best = {label: collections.defaultdict(lambda: float("inf")) for label, _ in variants}
    info = {}
    for r in range(args.rounds):
        for label, cmd in (variants if r % 2 == 0 else variants[::-1]):
            run = subprocess.run(cmd[:1] + ["profile", args.model, "--threads", args.threads, "--iterations",
                                            args.iterations, "--json"] + cmd[1:], capture_output=True, text=True)
            if run.returncode != 0:
                print(f"{label}: profile failed: {run.stderr.strip()}", file=sys.stderr)
                return 2
            for layer in json.loads(run.stdout)["layers"]:
                op = layer["op"]
                best[label][op] = min(best[label][op], layer["ms"])
                kind = layer["type"].split(" ")[0] + (" sparse" if " sparse " in layer["type"] + " " else "")
                info[op] = (kind, layer["output"], layer["type"])

    def pixels(shape):
        return shape[1] * shape[2] if len(shape) == 4 else 0

    groups = collections.defaultdict(list)
    for op, (kind, shape, _) in info.items():
        key = kind
        if args.split_pixels is not None:
            key += f" <={args.split_pixels}px" if pixels(shape) <= args.split_pixels else f" >{args.split_pixels}px"
        groups[key].append(op)
    labels = [label for label, _ in variants]
    print(f"# {args.model}, {args.threads} thread(s), {args.rounds} alternating rounds of {args.iterations} iterations; "
          "ms = sum over layers of each layer's min over rounds of its median")
    print("%-28s %5s" % ("op type", "n") + "".join("%12s" % l for l in labels))
    for key in sorted(groups):
        ops = groups[key]
        print("%-28s %5d" % (key, len(ops)) + "".join("%12.4f" % sum(best[l][op] for op in ops) for l in labels))
    print("%-28s %5d" % ("total", len(info)) + "".join("%12.4f" % sum(best[l].values()) for l in labels))
    if args.layers and len(labels) >= 2:
        a, b = labels[0], labels[1]
        ranked = sorted(info, key=lambda op: -abs(best[b][op] - best[a][op]))[: args.layers]
        print(f"\nlayers differing most ({b} - {a}):")
        for op in ranked:
            print("  op %4d %-32s %-20s %s %.4f  %s %.4f  %+.4f" % (op, info[op][2][:32], info[op][1], a, best[a][op], b,
                                                                  best[b][op], best[b][op] - best[a][op]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
