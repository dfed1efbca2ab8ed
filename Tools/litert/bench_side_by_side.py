#!/usr/bin/env python3
"""Side-by-side latency: LiteRT + XNNPACK versus our `blazepose bench`.

For each model (detector, lite, full) and each thread count (default: 1 and all
cores) this runs several rounds. Each round times LiteRT with its default
delegate (XNNPACK, `num_threads=N`) in this process and runs our CLI

    blazepose bench MODEL --threads N --iterations K --warmup W --json

which must print one JSON object on stdout with at least `median_ms`, `min_ms`,
`gflops` and `threads` (optional: `cpu_median_ms`, the median CPU time of the
calling thread, meaningful at 1 thread; it makes a load-robust column). The order of the two alternates from round to round
(A B, B A, ...) so slow drift (thermal, other jobs on the machine) hits both
equally. The reported figure for each side is the median over rounds of the
per-round median latency; `min` is the smallest per-iteration (LiteRT) or
per-round `min_ms` (ours). `ours/XNNPACK` divides the two medians; `paired` is the median
over rounds of each round's own ratio (our round median / XNNPACK's in that round): adjacent
processes see about the same host load, so it moves less when the load changes between rounds.

Both sides get warm-up iterations before timing, every round. LiteRT is fed the
committed fixture input of the model (the astronaut photo, x = p * scale + offset,
see reference.py); our CLI gets the same tensor as a float32 .npy through
`--cli-input-flag` if the CLI has such an option (e.g. `--cli-input-flag=--input`),
otherwise it uses its own input. For dense float CNNs like these the values do not
change the amount of work, but denormals could change speed, so prefer to pass it.

`--builtin` also times LiteRT's builtin kernels (no delegate) for reference.

Usage:
  PY=$(bash Tools/litert/venv.sh)
  swift build -c release
  $PY Tools/litert/bench_side_by_side.py [--binary .build/release/blazepose] \
      [--models detector,lite,full|wheel|all|NAME,...] [--threads 1,2] [--rounds 5] [--iterations 20] \
      [--warmup 5] [--builtin] [--litert-only] [--json-out results.json]

Exit status: 0 if every row has both numbers (or --litert-only), 2 if our CLI
failed somewhere (the rows say why), 1 for bad arguments or missing weights.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
from ai_edge_litert import interpreter as litert  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
MODELS = {
    "detector": "pose_detection",
    "lite": "pose_landmark_lite",
    "full": "pose_landmark_full",
}
# MediaPipe's other float models with only builtin operators (weights/mediapipe/, from
# Tools/fetch-mediapipe-models.sh); `--models wheel` selects all of them, `all` adds the pose models.
WHEEL = ["face_detection_short_range", "face_detection_full_range_sparse", "face_landmark", "iris_landmark",
         "palm_detection_lite", "palm_detection_full", "hand_landmark_lite", "hand_landmark_full", "hand_recrop"]
MODELS.update({name: "mediapipe/" + name for name in WHEEL})


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def fixture_input(model: str, shape: list[int]) -> tuple[np.ndarray, str]:
    """The committed fixture input as float32, or a seeded random tensor."""
    d = os.path.join(ROOT, "Tests", "RuntimeTests", "Fixtures", os.path.basename(model), "astronaut")
    try:
        with open(os.path.join(d, "manifest.json")) as f:
            tr = json.load(f)["input_transform"]
        p = np.load(os.path.join(d, "input.npy"))
        prod = np.multiply(p.astype(np.float32), np.float32(tr["scale"]), dtype=np.float32)
        x = np.add(prod, np.float32(tr["offset"]), dtype=np.float32)
        if list(x.shape) == shape:
            return x, f"fixture {model}/astronaut"
    except (OSError, KeyError, ValueError):
        pass
    rng = np.random.default_rng(0)
    return rng.uniform(-1, 1, size=shape).astype(np.float32), "seeded uniform[-1,1]"


def conv_gflop(model_path: str) -> float:
    """2 x multiply-accumulates of CONV_2D and DEPTHWISE_CONV_2D per inference, in GFLOP
    (the other operators are a rounding error next to these)."""
    it = litert.Interpreter(model_path=model_path,
                            experimental_op_resolver_type=litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    it.allocate_tensors()
    shapes = {d["index"]: [int(v) for v in d["shape"]] for d in it.get_tensor_details()}
    macs = 0
    for op in it._get_ops_details():
        if op["op_name"] not in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            continue
        out = shapes[int(op["outputs"][0])]   # NHWC
        w = shapes[int(op["inputs"][1])]      # conv OHWI, depthwise 1HWC
        per_out = w[1] * w[2] * (w[3] if op["op_name"] == "CONV_2D" else 1)
        macs += int(np.prod(out)) * per_out
    return 2 * macs / 1e9


class LiteRTTimer:
    def __init__(self, model_path: str, threads: int, xnnpack: bool):
        resolver = (litert.OpResolverType.AUTO if xnnpack
                    else litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        self.it = litert.Interpreter(model_path=model_path, num_threads=threads,
                                     experimental_op_resolver_type=resolver)
        self.it.allocate_tensors()
        self.inp = self.it.get_input_details()[0]

    @property
    def input_shape(self) -> list[int]:
        return [int(v) for v in self.inp["shape"]]

    def time(self, x: np.ndarray, iterations: int, warmup: int) -> tuple[list[float], list[float]]:
        """Per-iteration (wall ms, calling-thread CPU ms) of set_tensor + invoke.

        With 1 thread all work runs on the calling thread, so its CPU time excludes
        the time other processes held the core: a load-robust figure on a shared
        machine. With more threads it misses the workers and is not reported.
        """
        for _ in range(warmup):
            self.it.set_tensor(self.inp["index"], x)
            self.it.invoke()
        wall, cpu = [], []
        for _ in range(iterations):
            c0 = time.thread_time_ns()
            t0 = time.perf_counter_ns()
            self.it.set_tensor(self.inp["index"], x)
            self.it.invoke()
            wall.append((time.perf_counter_ns() - t0) / 1e6)
            cpu.append((time.thread_time_ns() - c0) / 1e6)
        return wall, cpu


def run_cli(binary: str, model_path: str, threads: int, iterations: int, warmup: int,
            input_flag: str | None, input_path: str | None, timeout: float, extra: list[str] = ()) -> dict:
    cmd = [binary, "bench", model_path, "--threads", str(threads), "--iterations", str(iterations),
           "--warmup", str(warmup), "--json", *extra]
    if input_flag and input_path:
        cmd += [input_flag, input_path]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise RuntimeError(f"CLI not found: {binary} (swift build -c release)")
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"CLI timed out after {timeout:.0f} s: {' '.join(cmd)}")
    if r.returncode != 0:
        err = (r.stderr or r.stdout).strip().splitlines()
        raise RuntimeError(f"CLI exit {r.returncode}: {err[-1] if err else '(no output)'}")
    # The JSON object is the last line that parses; tolerate log lines before it.
    for line in reversed(r.stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                obj = json.loads(line)
                break
            except json.JSONDecodeError:
                continue
    else:
        try:
            obj = json.loads(r.stdout)
        except json.JSONDecodeError:
            raise RuntimeError(f"CLI printed no JSON object: {r.stdout.strip()[:200]!r}")
    missing = [k for k in ("median_ms", "min_ms", "gflops", "threads") if k not in obj]
    if missing:
        raise RuntimeError(f"CLI JSON lacks {missing}: {obj}")
    if int(obj["threads"]) != threads:
        raise RuntimeError(f"CLI ran {obj['threads']} threads, asked for {threads}")
    return obj


def fmt(v, spec=".2f"):
    return "n/a" if v is None else format(v, spec)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "blazepose"))
    ap.add_argument("--weights", default=os.path.join(ROOT, "weights"))
    ap.add_argument("--models", default="detector,lite,full", help="comma list of " + ",".join(MODELS))
    ap.add_argument("--threads", default=f"1,{cores()}", help="comma list of thread counts")
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    ap.add_argument("--iterations", type=int, default=20, help="timed iterations per round and side")
    ap.add_argument("--warmup", type=int, default=5, help="warm-up iterations per round and side")
    ap.add_argument("--builtin", action="store_true", help="also time LiteRT builtin kernels")
    ap.add_argument("--litert-only", action="store_true", help="do not run our CLI")
    ap.add_argument("--cli-model-arg", choices=["path", "name"], default="path",
                    help="what our CLI gets as MODEL: the .tflite path (default) or detector/lite/full")
    ap.add_argument("--cli-input-flag", help="CLI option that takes an input .npy, e.g. --input")
    ap.add_argument("--cli-args", default="",
                    help="extra arguments for our `bench`, one string split on spaces, e.g. --cli-args=--sparse")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per CLI run")
    ap.add_argument("--json-out", help="also write all measurements as JSON")
    a = ap.parse_args(argv)

    models = [m.strip() for m in a.models.split(",") if m.strip()]
    expand = {"wheel": WHEEL, "all": ["detector", "lite", "full"] + WHEEL}
    models = [x for m in models for x in expand.get(m, [m])]
    bad = [m for m in models if m not in MODELS]
    if bad:
        ap.error(f"unknown model(s) {bad}; choose from {list(MODELS)}")
    try:
        thread_counts = sorted({int(t) for t in a.threads.split(",")})
    except ValueError:
        ap.error(f"--threads must be a comma list of integers, got {a.threads!r}")
    if any(t < 1 for t in thread_counts) or a.rounds < 1 or a.iterations < 1 or a.warmup < 0:
        ap.error("threads, rounds and iterations must be >= 1, warmup >= 0")
    for m in models:
        p = os.path.join(a.weights, MODELS[m] + ".tflite")
        if not os.path.isfile(p):
            print(f"bench: {p} missing (run bash Tools/setup.sh)", file=sys.stderr)
            return 1
    use_cli = not a.litert_only
    if use_cli and not os.access(a.binary, os.X_OK):
        print(f"bench: our CLI {a.binary} is not there; its column will say n/a "
              f"(swift build -c release, or --litert-only)", file=sys.stderr)

    print(f"# {cores()} cores, ai-edge-litert, rounds={a.rounds} iterations={a.iterations} "
          f"warmup={a.warmup}; figures = median over rounds of per-round medians (ms)", file=sys.stderr)
    load_start = os.getloadavg()
    if load_start[0] > 0.5:
        print(f"bench: warning: load average {load_start[0]:.2f} before start; other jobs share the "
              f"{cores()} cores and inflate every figure (mins are the least affected)", file=sys.stderr)
    results = []
    tmp = tempfile.TemporaryDirectory(prefix="bench-side-by-side-")
    cli_failed = False
    for m in models:
        path = os.path.join(a.weights, MODELS[m] + ".tflite")
        gflop = conv_gflop(path)
        for n in thread_counts:
            xnn = LiteRTTimer(path, n, xnnpack=True)
            x, x_desc = fixture_input(MODELS[m], xnn.input_shape)
            x_path = os.path.join(tmp.name, f"{os.path.basename(MODELS[m])}.npy")
            np.save(x_path, x)
            ref = LiteRTTimer(path, n, xnnpack=False) if a.builtin else None
            row = {"model": m, "threads": n, "input": x_desc, "conv_gflop": gflop, "xnnpack_round_medians": [],
                   "xnnpack_min": None, "ours_round_medians": [], "ours_min": None, "ours_gflops": [],
                   "builtin_round_medians": [], "xnnpack_cpu_round_medians": [],
                   "ours_cpu_round_medians": [], "error": None}
            for r in range(a.rounds):
                sides = ["xnnpack", "ours"] if r % 2 == 0 else ["ours", "xnnpack"]
                for side in sides:
                    if side == "xnnpack":
                        t, cpu = xnn.time(x, a.iterations, a.warmup)
                        row["xnnpack_round_medians"].append(statistics.median(t))
                        if n == 1:
                            row["xnnpack_cpu_round_medians"].append(statistics.median(cpu))
                        lo = min(t)
                        row["xnnpack_min"] = lo if row["xnnpack_min"] is None else min(row["xnnpack_min"], lo)
                    elif use_cli and row["error"] is None:
                        try:
                            model_arg = path if a.cli_model_arg == "path" else m
                            o = run_cli(a.binary, model_arg, n, a.iterations, a.warmup,
                                        a.cli_input_flag, x_path, a.timeout, a.cli_args.split())
                            row["ours_round_medians"].append(float(o["median_ms"]))
                            row["ours_gflops"].append(float(o["gflops"]))
                            if n == 1 and "cpu_median_ms" in o:  # optional field of the CLI JSON
                                row["ours_cpu_round_medians"].append(float(o["cpu_median_ms"]))
                            mn = float(o["min_ms"])
                            row["ours_min"] = mn if row["ours_min"] is None else min(row["ours_min"], mn)
                        except RuntimeError as e:
                            row["error"] = str(e)
                            cli_failed = True
                if ref is not None:
                    # Builtin kernels are slow; fewer iterations, still warmed up.
                    t, _ = ref.time(x, max(1, a.iterations // 4), 1)
                    row["builtin_round_medians"].append(statistics.median(t))
            med = lambda v: statistics.median(v) if v else None  # noqa: E731
            row["xnnpack_ms"] = med(row["xnnpack_round_medians"])
            row["ours_ms"] = med(row["ours_round_medians"])
            row["builtin_ms"] = med(row["builtin_round_medians"])
            row["xnnpack_cpu_ms"] = med(row["xnnpack_cpu_round_medians"])
            row["ours_cpu_ms"] = med(row["ours_cpu_round_medians"])
            row["ratio"] = row["ours_ms"] / row["xnnpack_ms"] if row["ours_ms"] and row["xnnpack_ms"] else None
            # Each round's two medians come from adjacent processes, which see about the same host
            # load: the median of those per-round ratios moves less with the host than the ratio of
            # the medians (the bar's figure), so both are printed.
            pairs = list(zip(row["ours_round_medians"], row["xnnpack_round_medians"]))
            row["paired_ratio"] = (statistics.median(o / x for o, x in pairs)
                                   if pairs and len(row["ours_round_medians"]) == len(row["xnnpack_round_medians"]) else None)
            row["ours_gflops_median"] = med(row["ours_gflops"])
            row["xnnpack_gflops"] = gflop / (row["xnnpack_ms"] / 1e3) if row["xnnpack_ms"] else None
            results.append(row)
            print(f"  {m} threads={n}: xnnpack {fmt(row['xnnpack_ms'])} ms, ours {fmt(row['ours_ms'])} ms"
                  + (f", builtin {fmt(row['builtin_ms'])} ms" if a.builtin else "")
                  + (f"  [{row['error']}]" if row["error"] else ""), file=sys.stderr)
            del xnn, ref

    head = ["model", "GFLOP", "threads", "XNNPACK ms", "XNNPACK min", "XNNPACK GFLOP/s", "ours ms", "ours min",
            "ours GFLOP/s", "ours/XNNPACK", "paired", "XNNPACK cpu ms", "ours cpu ms"]
    if a.builtin:
        head.append("builtin ms")
    rows = []
    for r in results:
        cells = [r["model"], fmt(r["conv_gflop"], ".3f"), str(r["threads"]), fmt(r["xnnpack_ms"]), fmt(r["xnnpack_min"]),
                 fmt(r["xnnpack_gflops"], ".1f"), fmt(r["ours_ms"]),
                 fmt(r["ours_min"]), fmt(r["ours_gflops_median"], ".1f"), fmt(r["ratio"], ".2f") + ("x" if r["ratio"] else ""),
                 fmt(r["paired_ratio"], ".2f") + ("x" if r["paired_ratio"] else ""),
                 fmt(r["xnnpack_cpu_ms"]), fmt(r["ours_cpu_ms"])]
        if a.builtin:
            cells.append(fmt(r["builtin_ms"]))
        rows.append(cells)
    widths = [max(len(h), *(len(c[i]) for c in rows)) for i, h in enumerate(head)]
    print(" | ".join(h.ljust(w) for h, w in zip(head, widths)))
    print("-|-".join("-" * w for w in widths))
    for c in rows:
        print(" | ".join(v.ljust(w) for v, w in zip(c, widths)))
    for r in results:
        if r["error"]:
            print(f"note: {r['model']} threads={r['threads']}: ours n/a: {r['error']}")
    print("note: cpu ms = median CPU time of the timing thread, 1 thread only (robust to other load); "
          "ours needs the optional `cpu_median_ms` field in the CLI JSON")
    print("note: GFLOP = 2 x MACs of CONV_2D + DEPTHWISE_CONV_2D; XNNPACK GFLOP/s = that / median")
    print("note: ours/XNNPACK = median of our round medians / median of XNNPACK's; paired = median over rounds "
          "of (our round median / XNNPACK's in the same round), less moved by host load that changes between rounds")
    if use_cli and not a.cli_input_flag:
        print("note: our CLI used its own input (no --cli-input-flag given)")
    load_end = os.getloadavg()
    print(f"note: 1-minute load average {load_start[0]:.2f} at start, {load_end[0]:.2f} at end "
          f"on {cores()} cores (this process itself adds up to the thread count)")

    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump({"cores": cores(), "loadavg_start": load_start, "loadavg_end": load_end, "rounds": a.rounds, "iterations": a.iterations, "warmup": a.warmup,
                       "results": results}, f, indent=1)
    return 2 if (use_cli and cli_failed) else 0


if __name__ == "__main__":
    sys.exit(main())
