"""Writes the request bodies scripts/bench-serve sends: one MLP input row (784 float32) as a TF
Serving predict body, a KServe V2 JSON body and a KServe V2 binary body (+ its header length)."""

import json
import struct
import sys

import numpy as np

out = sys.argv[1]
x = np.random.default_rng(3).random((1, 784), dtype=np.float32)
values = [float(v) for v in x.reshape(-1)]
with open(f"{out}/predict.json", "w") as f:
    json.dump({"instances": x.tolist()}, f)
with open(f"{out}/v2.json", "w") as f:
    json.dump({"inputs": [{"name": "pixels", "shape": [1, 784], "datatype": "FP32", "data": values}]}, f)
header = json.dumps({
    "inputs": [{"name": "pixels", "shape": [1, 784], "datatype": "FP32", "parameters": {"binary_data_size": 784 * 4}}],
    "outputs": [{"name": "probabilities", "parameters": {"binary_data": True}}],
}).encode()
with open(f"{out}/v2.bin", "wb") as f:
    f.write(header + x.astype("<f4").tobytes())
with open(f"{out}/v2.bin.header", "w") as f:
    f.write(str(len(header)))
