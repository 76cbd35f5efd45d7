"""Lays out the model repository and request bodies scripts/bench-perf uses."""

import json
import os
import shutil
import sys

import numpy as np

fixtures, out = sys.argv[1], sys.argv[2]
repo = os.path.join(out, "repo")
shutil.rmtree(repo, ignore_errors=True)


def version(model, fixture, onnx=False, config=""):
    path = os.path.join(repo, model, "1")
    if onnx:
        os.makedirs(path)
        shutil.copy(os.path.join(fixtures, fixture, "model.onnx"), path)
    else:
        shutil.copytree(os.path.join(fixtures, fixture, "saved_model"), path)
    with open(os.path.join(repo, model, "wharf.yaml"), "w") as f:
        f.write(config)


version("cnn", "cnn")
version("cnn_batched", "cnn", config="dynamic_batching: {max_batch_size: 16, batch_timeout_micros: 2000}\n")
version("cnn_adaptive", "cnn", config="dynamic_batching: {max_batch_size: 16, batch_timeout_micros: 2000, adaptive: true}\n")
version("mlp", "mlp")
# The V2 JSON models' workers poll for 500 us after each run (section 3); mlp_onnx_nopoll is
# mlp_onnx without it, for comparison at concurrency 1.
version("mlp_onnx", "mlp", onnx=True, config="threads: {intra_op: 1, allow_spinning: false}\nworker_spin_micros: 500\n")
version("mlp_onnx_nopoll", "mlp", onnx=True, config="threads: {intra_op: 1, allow_spinning: false}\n")
version("mlp_onnx_batched", "mlp", onnx=True,
        config="threads: {intra_op: 1, allow_spinning: false}\nworker_spin_micros: 500\n"
        "dynamic_batching: {max_batch_size: 16, batch_timeout_micros: 0}\n")
version("mlp_onnx_b300", "mlp", onnx=True,
        config="threads: {intra_op: 1, allow_spinning: false}\ndynamic_batching: {max_batch_size: 16, batch_timeout_micros: 300}\n")
version("mlp_onnx_adaptive", "mlp", onnx=True,
        config="threads: {intra_op: 1, allow_spinning: false}\ndynamic_batching: {max_batch_size: 16, batch_timeout_micros: 500, adaptive: true}\n")
version("mlp_cold", "mlp", config="warmup: {enabled: false}\n")
version("mlp_warm", "mlp", config="warmup: {enabled: true, batch_sizes: [1]}\n")
version("mlp_cached", "mlp", config="response_cache: {max_bytes: 67108864}\n")

rng = np.random.default_rng(5)


def v2_binary(name, array, path):
    header = json.dumps({"inputs": [{"name": name, "shape": list(array.shape), "datatype": "FP32",
                                     "parameters": {"binary_data_size": array.size * 4}}],
                         "parameters": {"binary_data_output": True}}).encode()
    with open(path, "wb") as f:
        f.write(header + array.astype("<f4").tobytes())
    with open(path + ".header", "w") as f:
        f.write(str(len(header)))


image = rng.random((1, 32, 32, 3), dtype=np.float32)
pixels = rng.random((1, 784), dtype=np.float32)
v2_binary("image", image, os.path.join(out, "cnn.bin"))
v2_binary("pixels", pixels, os.path.join(out, "mlp.bin"))
with open(os.path.join(out, "mlp.v2.json"), "w") as f:
    json.dump({"inputs": [{"name": "pixels", "shape": [1, 784], "datatype": "FP32",
                           "data": [float(v) for v in pixels.reshape(-1)]}]}, f)
with open(os.path.join(out, "mlp.predict.json"), "w") as f:
    json.dump({"instances": pixels.tolist()}, f)
