"""How an idle gap before each call changes ONNX Runtime's time for the MLP fixture at batch 1.

At concurrency 1 the server's core waits for the client between requests. This probe runs the same
session (one intra-op thread, no spinning, as in scripts/bench-perf) back to back, after sleeping,
and after busy-waiting for the same gap, and prints the p50 of each.

    .venv/bin/python Benchmarks/perf/idle_gap.py [MODEL.onnx]

Run it under `taskset -c 1`, and again with a background busy loop on that core
(`taskset -c 1 nice -n 19 sh -c 'while :; do :; done' &`) to keep the core from idling.
"""

import sys
import time

import numpy as np
import onnxruntime as ort

path = sys.argv[1] if len(sys.argv) > 1 else "Fixtures/generated/mlp/model.onnx"
options = ort.SessionOptions()
options.intra_op_num_threads = 1
options.inter_op_num_threads = 1
options.add_session_config_entry("session.intra_op.allow_spinning", "0")
session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
feed = {"pixels": np.random.default_rng(3).random((1, 784), dtype=np.float32)}


def p50_us(gap_s, busy):
    times = []
    for _ in range(2000):
        if gap_s and busy:
            until = time.perf_counter() + gap_s
            while time.perf_counter() < until:
                pass
        elif gap_s:
            time.sleep(gap_s)
        started = time.perf_counter()
        session.run(None, feed)
        times.append(time.perf_counter() - started)
    times.sort()
    return times[len(times) // 2] * 1e6


for _ in range(300):
    session.run(None, feed)
cells = [("back to back", 0, False), ("sleep 50 us", 50e-6, False), ("sleep 200 us", 200e-6, False),
         ("busy-wait 200 us", 200e-6, True), ("sleep 1 ms", 1e-3, False)]
print(" | ".join(f"{label}: {p50_us(gap, busy):.1f} us" for label, gap, busy in cells))
