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

def small_mlp(model, config):
    """A control for scripts/bench-cpu: the MLP's input and output (784 float32 in, 10 out) with a
    hidden layer of 16 instead of the fixture's 940 KB of weights, so ONNX Runtime's share of a
    request is a few microseconds."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weights = np.random.default_rng(2)
    initializers = [
        numpy_helper.from_array((weights.standard_normal((784, 16)) * 0.05).astype(np.float32), "w1"),
        numpy_helper.from_array(np.zeros(16, np.float32), "b1"),
        numpy_helper.from_array((weights.standard_normal((16, 10)) * 0.1).astype(np.float32), "w2"),
        numpy_helper.from_array(np.zeros(10, np.float32), "b2"),
    ]
    nodes = [
        helper.make_node("MatMul", ["pixels", "w1"], ["h"]), helper.make_node("Add", ["h", "b1"], ["hb"]),
        helper.make_node("Relu", ["hb"], ["hr"]), helper.make_node("MatMul", ["hr", "w2"], ["o"]),
        helper.make_node("Add", ["o", "b2"], ["ob"]), helper.make_node("Softmax", ["ob"], ["probabilities"], axis=-1),
    ]
    graph = helper.make_graph(
        nodes, "small_mlp", [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["batch", 784])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 10])], initializers)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    proto.ir_version = 8
    path = os.path.join(repo, model, "1")
    os.makedirs(path)
    onnx.save(proto, os.path.join(path, "model.onnx"))
    with open(os.path.join(repo, model, "wharf.yaml"), "w") as f:
        f.write(config)


small_mlp("mlp_onnx_small", "threads: {intra_op: 1, allow_spinning: false}\nworker_spin_micros: 500\n")

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
