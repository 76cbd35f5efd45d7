"""Drives a running `wharf serve` with the official Triton/KServe V2 HTTP client (tritonclient),
JSON and binary, and compares the answers with what Python TensorFlow computed for the fixtures.
Exits non-zero with a message on the first difference. Used by the Swift HTTP tests.

Usage: python triton_client_check.py PORT FIXTURES_DIR
"""

import base64
import json
import os
import sys

import numpy as np
import tritonclient.http as httpclient

NP = {"float16": np.float16, "float32": np.float32, "float64": np.float64, "int8": np.int8, "int16": np.int16,
      "int32": np.int32, "int64": np.int64, "uint8": np.uint8, "uint16": np.uint16, "uint32": np.uint32,
      "uint64": np.uint64, "bool": np.bool_}
V2 = {"float16": "FP16", "float32": "FP32", "float64": "FP64", "int8": "INT8", "int16": "INT16", "int32": "INT32",
      "int64": "INT64", "uint8": "UINT8", "uint16": "UINT16", "uint32": "UINT32", "uint64": "UINT64",
      "bool": "BOOL", "string": "BYTES"}


def decode(encoded):
    if encoded["dtype"] == "string":
        values = [base64.b64decode(s) for s in encoded["strings_b64"]]
        return np.array(values, dtype=np.object_).reshape(encoded["shape"])
    raw = base64.b64decode(encoded["data_b64"])
    return np.frombuffer(raw, dtype=NP[encoded["dtype"]]).reshape(encoded["shape"])


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def main():
    port, fixtures = sys.argv[1], sys.argv[2]
    client = httpclient.InferenceServerClient(url=f"127.0.0.1:{port}")
    if not client.is_server_live() or not client.is_server_ready():
        fail("server not live/ready")
    server = client.get_server_metadata()
    if server.get("name") != "wharf" or "binary_tensor_data" not in server.get("extensions", []):
        fail(f"server metadata {server}")
    checked = 0
    for model in ("mlp", "two_io", "strings"):
        if not client.is_model_ready(model):
            fail(f"{model} not ready")
        metadata = client.get_model_metadata(model)
        with open(os.path.join(fixtures, model, "cases.json")) as f:
            cases = json.load(f)
        declared = cases["signatures"]["serving_default"]
        for tensor in metadata["inputs"]:
            want = declared["inputs"][tensor["name"]]
            if tensor["datatype"] != V2[want["dtype"]] or tensor["shape"] != want["shape"]:
                fail(f"{model} metadata input {tensor} vs {want}")
        for case in cases["cases"]:
            if case["signature"] != "serving_default":
                continue
            for binary in (False, True):
                inputs = []
                for name, encoded in case["inputs"].items():
                    value = decode(encoded)
                    infer_input = httpclient.InferInput(name, list(value.shape), V2[encoded["dtype"]])
                    infer_input.set_data_from_numpy(value, binary_data=binary)
                    inputs.append(infer_input)
                outputs = [httpclient.InferRequestedOutput(name, binary_data=binary) for name in case["tensorflow"]]
                result = client.infer(model, inputs, outputs=outputs, request_id=f"{model}-{binary}")
                response = result.get_response()
                if response.get("id") != f"{model}-{binary}" or response.get("model_name") != model:
                    fail(f"{model}: response header {response}")
                for name, encoded in case["tensorflow"].items():
                    expected = decode(encoded)
                    got = result.as_numpy(name)
                    if got is None or list(got.shape) != list(expected.shape):
                        fail(f"{model} {name} binary={binary}: shape {None if got is None else got.shape} vs {expected.shape}")
                    if expected.dtype == np.object_:
                        as_bytes = lambda a: [x if isinstance(x, bytes) else str(x).encode() for x in a.reshape(-1)]
                        if as_bytes(got) != as_bytes(expected):
                            fail(f"{model} {name} binary={binary}: {got} vs {expected}")
                    elif np.issubdtype(expected.dtype, np.floating):
                        diff = float(np.max(np.abs(got.astype(np.float64) - expected.astype(np.float64)))) if expected.size else 0.0
                        if diff > 1e-5:
                            fail(f"{model} {name} binary={binary}: max diff {diff}")
                    elif not np.array_equal(got, expected):
                        fail(f"{model} {name} binary={binary}: {got} vs {expected}")
                checked += 1
    # A request the model rejects surfaces as an InferenceServerException with the server's message.
    try:
        bad = httpclient.InferInput("pixels", [1, 3], "FP32")
        bad.set_data_from_numpy(np.zeros((1, 3), np.float32))
        client.infer("mlp", [bad])
        fail("a wrong shape was accepted")
    except httpclient.InferenceServerException as error:
        if "expects float32 [-1, 784]" not in str(error):
            fail(f"unexpected error text: {error}")
    print(f"OK: {checked} inferences through tritonclient matched Python TensorFlow")


if __name__ == "__main__":
    main()
