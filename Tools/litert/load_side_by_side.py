#!/usr/bin/env python3
"""Side-by-side model load: LiteRT + XNNPACK versus our `blazepose bench`.

For each model, each round starts two fresh processes, in alternating order
(A B, B A, ...):

- ours: `blazepose bench MODEL --threads N --iterations 3 --warmup 1 --json`,
  which reports `load_ms` (read and parse the file), `init_ms` (validate, resolve
  constants, prepack weights, plan and fault in the activation memory),
  `first_run_ms` and `median_ms`;
- LiteRT: a Python child that times `Interpreter(model_path=..., num_threads=N)`
  (load) and `allocate_tensors()` (init: with the default resolver this applies
  the XNNPACK delegate, which packs the weights), then the first `invoke()` and
  the median of 5 more.

Both clocks start after the process is up (Python's and Swift's start-up are not
counted) and the model file is in the page cache for both (every round reads it).
The figure per side is the median over rounds of load + init; `min` is the
smallest round. The last rows sum the detector and the landmark model (`full`
unless `--models` says otherwise), per round, then take the median: the load of
the pose pipeline when the two models load one after the other.

Usage:
  PY=$(bash Tools/litert/venv.sh)
  bash Tools/build.sh            # or swift build -c release
  $PY Tools/litert/load_side_by_side.py [--binary .build-native/release/blazepose] \
      [--models detector,full] [--threads 1] [--rounds 9]

Exit status: 0 when every round of both sides ran, 2 when one failed (the error is
printed), 1 for bad arguments or missing weights.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
MODELS = {"detector": "pose_detection", "lite": "pose_landmark_lite", "full": "pose_landmark_full"}

# The LiteRT side, run in a fresh interpreter process per round.
CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from ai_edge_litert import interpreter as litert
import numpy as np
model, threads = sys.argv[1], int(sys.argv[2])
t1 = time.perf_counter()
it = litert.Interpreter(model_path=model, num_threads=threads,
                        experimental_op_resolver_type=litert.OpResolverType.AUTO)
t2 = time.perf_counter()
it.allocate_tensors()
t3 = time.perf_counter()
inp = it.get_input_details()[0]
it.set_tensor(inp["index"], np.zeros(inp["shape"], np.float32))
t4 = time.perf_counter(); it.invoke(); t5 = time.perf_counter()
warm = []
for _ in range(5):
    a = time.perf_counter(); it.invoke(); warm.append(time.perf_counter() - a)
warm.sort()
print(json.dumps({"load_ms": (t2 - t1) * 1e3, "init_ms": (t3 - t2) * 1e3,
                  "first_run_ms": (t5 - t4) * 1e3, "median_ms": warm[2] * 1e3}))
"""


def run_ours(binary: str, model: str, threads: int) -> dict:
    r = subprocess.run([binary, "bench", model, "--threads", str(threads), "--iterations", "3", "--warmup", "1", "--json"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"blazepose bench {model} exited {r.returncode}: {r.stderr.strip()[:400]}")
    return json.loads(r.stdout)


def run_litert(model: str, threads: int) -> dict:
    r = subprocess.run([sys.executable, "-c", CHILD, model, str(threads)], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"LiteRT child on {model} exited {r.returncode}: {r.stderr.strip()[-400:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--binary", default=os.path.join(ROOT, ".build-native", "release", "blazepose"))
    p.add_argument("--models", default="detector,full", help="comma-separated: detector, lite, full (default: detector,full)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--rounds", type=int, default=9)
    a = p.parse_args()
    names = [m.strip() for m in a.models.split(",") if m.strip()]
    bad = [m for m in names if m not in MODELS]
    if bad or not names or a.rounds < 1 or a.threads < 1:
        print(f"load_side_by_side: bad arguments (models {bad or names}, rounds {a.rounds}, threads {a.threads}); "
              f"models are {', '.join(MODELS)}", file=sys.stderr)
        return 1
    if not os.access(a.binary, os.X_OK):
        print(f"load_side_by_side: no executable at {a.binary} (build first)", file=sys.stderr)
        return 1
    paths = {m: os.path.join(ROOT, "weights", MODELS[m] + ".tflite") for m in names}
    missing = [p for p in paths.values() if not os.path.isfile(p)]
    if missing:
        print(f"load_side_by_side: missing {', '.join(missing)}: run bash Tools/setup.sh", file=sys.stderr)
        return 1

    ours: dict[str, list[dict]] = {m: [] for m in names}
    theirs: dict[str, list[dict]] = {m: [] for m in names}
    load_start = os.getloadavg()[0]
    try:
        for r in range(a.rounds):
            for m in names:
                for side in (("ours", "litert") if r % 2 == 0 else ("litert", "ours")):
                    if side == "ours":
                        ours[m].append(run_ours(a.binary, paths[m], a.threads))
                    else:
                        theirs[m].append(run_litert(paths[m], a.threads))
    except (RuntimeError, ValueError) as e:
        print(f"load_side_by_side: {e}", file=sys.stderr)
        return 2

    def total(d: dict) -> float:
        return d["load_ms"] + d["init_ms"]

    print(f"model load + init, {a.threads} thread(s), {a.rounds} alternating rounds, fresh process per round "
          f"(median over rounds; min in brackets)")
    print(f"{'model':<10} {'LiteRT+XNNPACK ms':>22} {'ours ms':>20} {'ours/LiteRT':>12}   "
          f"{'first/warm LiteRT':>18} {'first/warm ours':>16}")
    for m in names:
        t, o = [total(d) for d in theirs[m]], [total(d) for d in ours[m]]
        fw_t = statistics.median(d["first_run_ms"] / d["median_ms"] for d in theirs[m])
        fw_o = statistics.median(d["first_run_ms"] / d["median_ms"] for d in ours[m])
        print(f"{m:<10} {statistics.median(t):>12.2f} [{min(t):6.2f}] {statistics.median(o):>10.2f} [{min(o):6.2f}] "
              f"{statistics.median(o) / statistics.median(t):>12.3f}   {fw_t:>18.2f} {fw_o:>16.2f}")
        lt = statistics.median(d["load_ms"] for d in theirs[m]); it = statistics.median(d["init_ms"] for d in theirs[m])
        lo = statistics.median(d["load_ms"] for d in ours[m]); io = statistics.median(d["init_ms"] for d in ours[m])
        print(f"{'':<10}   load {lt:6.2f} + init {it:6.2f}     load {lo:6.2f} + init {io:6.2f}")
    if len(names) > 1:
        t = [sum(total(theirs[m][r]) for m in names) for r in range(a.rounds)]
        o = [sum(total(ours[m][r]) for m in names) for r in range(a.rounds)]
        print(f"{'+'.join(names):<10} {statistics.median(t):>12.2f} [{min(t):6.2f}] {statistics.median(o):>10.2f} [{min(o):6.2f}] "
              f"{statistics.median(o) / statistics.median(t):>12.3f}   (sum per round)")
    print(f"note: 1-minute load average {load_start:.2f} at start, {os.getloadavg()[0]:.2f} at end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
