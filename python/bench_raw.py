"""The Python side of scripts/bench-raw: the same per-call latency measurement as
wharf-rawbench, through Python TensorFlow (the SavedModel's serving_default signature function)
and Python onnxruntime (InferenceSession.run). One JSON line per (runtime, model, batch).

Usage: python bench_raw.py FIXTURES_DIR [ITERATIONS]
"""

import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import tensorflow as tf  # noqa: E402

WORKLOADS = [("mlp", "pixels", (784,)), ("cnn", "image", (32, 32, 3))]


def measure(call, iterations):
    for _ in range(max(20, iterations // 20)):
        call()
    samples = []
    for _ in range(iterations):
        start = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - start) / 1000.0)
    samples.sort()
    pick = lambda p: samples[min(len(samples) - 1, round((len(samples) - 1) * p))]
    return {"mean_us": sum(samples) / len(samples), "p50_us": pick(0.5), "p99_us": pick(0.99)}


def main():
    fixtures = sys.argv[1]
    iterations = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    rng = np.random.default_rng(1)
    for model, input_name, row in WORKLOADS:
        loaded = tf.saved_model.load(os.path.join(fixtures, model, "saved_model"))
        signature = loaded.signatures["serving_default"]
        session = ort.InferenceSession(os.path.join(fixtures, model, "model.onnx"), providers=["CPUExecutionProvider"])
        for runtime in ("tensorflow", "onnxruntime"):
            for batch in (1, 32):
                x = rng.random((batch,) + row, dtype=np.float32)
                if runtime == "tensorflow":
                    # Each call converts the numpy input and reads the result back, as a client would.
                    call = lambda: {k: v.numpy() for k, v in signature(**{input_name: tf.constant(x)}).items()}
                else:
                    call = lambda: session.run(None, {input_name: x})
                result = measure(call, iterations)
                result.update({"side": "python", "runtime": runtime, "model": model, "batch": batch,
                               "iterations": iterations})
                print(json.dumps(result, sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
