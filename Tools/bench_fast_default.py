#!/usr/bin/env python3
"""The quick start's binary vs the native-flag build, side by side on `blazepose bench`.

    python3 Tools/bench_fast_default.py QUICK_BINARY REFERENCE_BINARY [--rounds 7] [--threads 1]
    bash Tools/bench_fast_default.sh            # builds both, then runs this

QUICK_BINARY is what README's quick start runs (`Tools/build.sh`: -target-cpu native, FMA from the
CPU target); REFERENCE_BINARY the native-flag build of the "Fast builds" recipe before this change
(-target-cpu native -DBLAZE_FMA). Each round runs `bench` once per binary and model, alternating
which binary goes first, so machine load hits both alike. Prints per model the median over rounds
of each binary's median latency (and of its median CPU time, which other load disturbs less on
one thread) and the ratio quick / reference.
"""
import argparse, json, os, statistics, subprocess, sys

MODELS = ["pose_detection.tflite", "pose_landmark_lite.tflite", "pose_landmark_full.tflite"]


def bench(binary, model, threads, iterations, warmup):
    out = subprocess.run([binary, "bench", model, "--threads", str(threads), "--iterations", str(iterations),
                          "--warmup", str(warmup), "--json"], check=True, capture_output=True, text=True).stdout
    r = json.loads(out)
    return r["median_ms"], r["cpu_median_ms"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("quick")
    p.add_argument("reference")
    p.add_argument("--weights", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "weights"))
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--iterations", type=int, default=60)
    p.add_argument("--warmup", type=int, default=10)
    a = p.parse_args()
    results = {m: {"quick": [], "reference": []} for m in MODELS}
    for r in range(a.rounds):
        order = [("quick", a.quick), ("reference", a.reference)]
        if r % 2:
            order.reverse()
        for m in MODELS:
            for name, binary in order:
                results[m][name].append(bench(binary, os.path.join(a.weights, m), a.threads, a.iterations, a.warmup))
        print(f"round {r + 1}/{a.rounds} done", file=sys.stderr)
    print(f"{a.rounds} rounds, {a.threads} thread(s), {a.iterations} iterations per bench; medians over rounds (ms)")
    print(f"{'model':28} {'quick':>8} {'native':>8} {'ratio':>6}   {'cpu quick':>9} {'cpu native':>10} {'ratio':>6}")
    worst = 0.0
    for m in MODELS:
        q = statistics.median(x[0] for x in results[m]["quick"])
        n = statistics.median(x[0] for x in results[m]["reference"])
        qc = statistics.median(x[1] for x in results[m]["quick"])
        nc = statistics.median(x[1] for x in results[m]["reference"])
        worst = max(worst, q / n)
        print(f"{m:28} {q:8.3f} {n:8.3f} {q / n:6.3f}   {qc:9.3f} {nc:10.3f} {qc / nc:6.3f}")
    print(f"worst wall ratio quick/native: {worst:.3f} (bar: <= 1.05)")


if __name__ == "__main__":
    main()
