"""Builds Wharf's test fixtures with real TensorFlow and tf2onnx.

For every fixture it writes, under OUT/<name>/:
  saved_model/   a TF2 SavedModel (tag "serve")
  model.onnx     the same model converted with tf2onnx
  cases.json     inputs, and the outputs Python TensorFlow and Python onnxruntime compute for them,
                 plus each signature's declared inputs/outputs
OUT/sources/ holds models in the formats `wharf convert` takes (see make_sources).
It also writes OUT/config_proto.json: ConfigProto settings and the bytes TensorFlow serializes
them to, so Wharf's own ConfigProto builder can be checked byte for byte.

Usage: python make_fixtures.py OUT
"""

import base64
import json
import os
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf2onnx  # noqa: E402

SEED = 20261125
OPSET = 17

NP_DTYPE_NAMES = {
    np.float16: "float16", np.float32: "float32", np.float64: "float64",
    np.int8: "int8", np.int16: "int16", np.int32: "int32", np.int64: "int64",
    np.uint8: "uint8", np.uint16: "uint16", np.uint32: "uint32", np.uint64: "uint64",
    np.bool_: "bool",
}


def encode(array):
    """A tensor as JSON: dtype, shape and little-endian bytes (or the strings) in base64."""
    array = np.asarray(array)
    if array.dtype.kind in ("S", "O", "U"):
        flat = [x if isinstance(x, bytes) else str(x).encode() for x in array.reshape(-1).tolist()]
        return {"dtype": "string", "shape": list(array.shape),
                "strings_b64": [base64.b64encode(x).decode() for x in flat]}
    name = array.dtype.name
    if name not in NP_DTYPE_NAMES.values():
        raise ValueError(f"unsupported dtype {name}")
    data = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()
    return {"dtype": name, "shape": list(array.shape), "data_b64": base64.b64encode(data).decode()}


def spec_json(spec):
    shape = None if spec.shape.rank is None else [(-1 if d is None else d) for d in spec.shape.as_list()]
    dtype = "string" if spec.dtype == tf.string else spec.dtype.name
    if dtype == "half":
        dtype = "float16"
    return {"dtype": dtype, "shape": shape}


class Fixture:
    def __init__(self, name, module, signatures, cases, onnx_signature="serving_default"):
        self.name = name
        self.module = module
        self.signatures = signatures  # key -> concrete tf.function
        self.cases = cases  # list of (signature key, {input: np.array})
        self.onnx_signature = onnx_signature


def dense(rng, n_in, n_out):
    w = tf.Variable(rng.normal(0, 1 / np.sqrt(n_in), (n_in, n_out)).astype(np.float32))
    b = tf.Variable(rng.normal(0, 0.1, (n_out,)).astype(np.float32))
    return w, b


def make_mlp(rng):
    class MLP(tf.Module):
        def __init__(self):
            super().__init__()
            self.l1 = dense(rng, 784, 256)
            self.l2 = dense(rng, 256, 128)
            self.l3 = dense(rng, 128, 10)

        @tf.function(input_signature=[tf.TensorSpec([None, 784], tf.float32, name="pixels")])
        def serve(self, pixels):
            h = tf.nn.relu(tf.matmul(pixels, self.l1[0]) + self.l1[1])
            h = tf.nn.relu(tf.matmul(h, self.l2[0]) + self.l2[1])
            return {"probabilities": tf.nn.softmax(tf.matmul(h, self.l3[0]) + self.l3[1])}

    m = MLP()
    cases = [("serving_default", {"pixels": rng.random((n, 784), dtype=np.float32)}) for n in (1, 4, 32)]
    return Fixture("mlp", m, {"serving_default": m.serve}, cases)


def make_cnn(rng):
    class CNN(tf.Module):
        def __init__(self):
            super().__init__()
            self.k1 = tf.Variable(rng.normal(0, 0.2, (3, 3, 3, 16)).astype(np.float32))
            self.b1 = tf.Variable(np.zeros(16, np.float32))
            self.k2 = tf.Variable(rng.normal(0, 0.1, (3, 3, 16, 32)).astype(np.float32))
            self.b2 = tf.Variable(np.zeros(32, np.float32))
            self.fc = dense(rng, 32 * 8 * 8, 10)

        @tf.function(input_signature=[tf.TensorSpec([None, 32, 32, 3], tf.float32, name="image")])
        def serve(self, image):
            h = tf.nn.relu(tf.nn.conv2d(image, self.k1, 1, "SAME") + self.b1)
            h = tf.nn.max_pool2d(h, 2, 2, "VALID")
            h = tf.nn.relu(tf.nn.conv2d(h, self.k2, 1, "SAME") + self.b2)
            h = tf.nn.max_pool2d(h, 2, 2, "VALID")
            h = tf.reshape(h, [-1, 32 * 8 * 8])
            return {"probabilities": tf.nn.softmax(tf.matmul(h, self.fc[0]) + self.fc[1])}

    m = CNN()
    cases = [("serving_default", {"image": rng.random((n, 32, 32, 3), dtype=np.float32)}) for n in (1, 3, 32)]
    return Fixture("cnn", m, {"serving_default": m.serve}, cases)


def make_two_io(rng):
    class TwoIO(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable(rng.normal(0, 1, (4,)).astype(np.float32))

        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="features"),
                                      tf.TensorSpec([None, 3], tf.int64, name="ids")])
        def serve(self, features, ids):
            positive = tf.cast(tf.reduce_max(ids, axis=1) > 0, tf.float32)
            score = tf.reduce_sum(features * self.w, axis=1) + positive
            return {"score": score, "ids_doubled": ids * 2 + 1}

    m = TwoIO()
    ids = np.array([[2**40 + 1, -7, 0], [123456789012, 5, -(2**41)]], dtype=np.int64)
    cases = [("serving_default", {"features": rng.random((2, 4), dtype=np.float32), "ids": ids})]
    return Fixture("two_io", m, {"serving_default": m.serve}, cases)


def make_strings(rng):
    class Strings(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
        def serve(self, text):
            return {"echo": tf.identity(text), "count": tf.size(text, out_type=tf.int64)}

    m = Strings()
    text = np.array([b"hello", b"", "gr\u00fc\u00dfe \u6e2f".encode(), b"a string longer than twenty-two bytes, stored out of line"], dtype=object)
    return Fixture("strings", m, {"serving_default": m.serve}, [("serving_default", {"text": text})])


def make_multi_signature(rng):
    class Multi(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x")])
        def double(self, x):
            return {"y": x * 2.0}

        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="a"),
                                      tf.TensorSpec([None, 3], tf.float32, name="b")])
        def add(self, a, b):
            return {"total": a + b}

        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x")])
        def argmax(self, x):
            return {"index": tf.argmax(x, axis=1), "max": tf.reduce_max(x, axis=1)}

    m = Multi()
    x = rng.random((2, 3), dtype=np.float32)
    cases = [("serving_default", {"x": x}), ("add", {"a": x, "b": x * 3}), ("argmax", {"x": x})]
    sigs = {"serving_default": m.double, "add": m.add, "argmax": m.argmax}
    return Fixture("multi_signature", m, sigs, cases)


DTYPES = [("f16", tf.float16, np.float16), ("f32", tf.float32, np.float32), ("f64", tf.float64, np.float64),
          ("i8", tf.int8, np.int8), ("i16", tf.int16, np.int16), ("i32", tf.int32, np.int32),
          ("i64", tf.int64, np.int64), ("u8", tf.uint8, np.uint8), ("u16", tf.uint16, np.uint16),
          ("u32", tf.uint32, np.uint32), ("u64", tf.uint64, np.uint64), ("b", tf.bool, np.bool_),
          ("s", tf.string, object)]


def make_dtypes(rng):
    specs = [tf.TensorSpec([None], dt, name=name) for name, dt, _ in DTYPES]

    class AllTypes(tf.Module):
        @tf.function(input_signature=specs)
        def serve(self, *args):
            return {name + "_out": tf.identity(arg) for (name, _, _), arg in zip(DTYPES, args)}

    m = AllTypes()
    inputs = {}
    for name, _, np_type in DTYPES:
        if np_type is object:
            inputs[name] = np.array([b"x", b"yz", "\u00e9t\u00e9 \u6e2f".encode()], dtype=object)
        elif np_type is np.bool_:
            inputs[name] = np.array([True, False, True])
        elif np.issubdtype(np_type, np.floating):
            inputs[name] = np.array([1.5, -0.0, 65504.0 if np_type is np.float16 else 3.4e38], dtype=np_type)
        else:
            info = np.iinfo(np_type)
            inputs[name] = np.array([info.min, 0, info.max], dtype=np_type)
    return Fixture("dtypes", m, {"serving_default": m.serve}, [("serving_default", inputs)])


def run_tf(signature_fn, inputs):
    outputs = signature_fn(**{k: tf.constant(v) for k, v in inputs.items()})
    return {k: v.numpy() for k, v in outputs.items()}


def build(fixture, out_dir):
    path = os.path.join(out_dir, fixture.name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    saved = os.path.join(path, "saved_model")
    tf.saved_model.save(fixture.module, saved, signatures=fixture.signatures)

    loaded = tf.saved_model.load(saved)
    signature_info = {}
    for key, fn in loaded.signatures.items():
        _, kw_inputs = fn.structured_input_signature
        signature_info[key] = {
            "inputs": {k: spec_json(s) for k, s in kw_inputs.items()},
            "outputs": {k: spec_json(s) for k, s in fn.structured_outputs.items()},
        }

    onnx_path = os.path.join(path, "model.onnx")
    fn = fixture.signatures[fixture.onnx_signature]
    tf2onnx.convert.from_function(fn, input_signature=fn.input_signature, opset=OPSET, output_path=onnx_path)
    session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    onnx_inputs = {i.name: i for i in session.get_inputs()}

    cases = []
    for key, inputs in fixture.cases:
        case = {"signature": key, "inputs": {k: encode(v) for k, v in inputs.items()}}
        tf_out = run_tf(loaded.signatures[key], inputs)
        case["tensorflow"] = {k: encode(v) for k, v in tf_out.items()}
        if key == fixture.onnx_signature:
            # Python onnxruntime takes text as str (it would str() a bytes object), so decode.
            feed = {k: (np.array([x.decode() for x in v.reshape(-1)], dtype=object).reshape(v.shape)
                        if v.dtype == object else v) for k, v in inputs.items() if k in onnx_inputs}
            if set(feed) == set(onnx_inputs):
                names = [o.name for o in session.get_outputs()]
                ort_out = session.run(names, feed)
                case["onnx"] = {n: encode(np.asarray(v)) for n, v in zip(names, ort_out)}
        cases.append(case)

    with open(os.path.join(path, "cases.json"), "w") as f:
        json.dump({"name": fixture.name, "signatures": signature_info,
                   "onnx_inputs": sorted(onnx_inputs), "cases": cases}, f, indent=1)
    print(f"fixture {fixture.name}: {len(cases)} cases, signatures {sorted(signature_info)}", flush=True)


def config_proto_cases(out_dir):
    def proto(intra=0, inter=0, growth=False, fraction=None, visible=None, limit=None):
        config = tf.compat.v1.ConfigProto()
        if intra:
            config.intra_op_parallelism_threads = intra
        if inter:
            config.inter_op_parallelism_threads = inter
        if growth:
            config.gpu_options.allow_growth = True
        if fraction is not None:
            config.gpu_options.per_process_gpu_memory_fraction = fraction
        if visible is not None:
            config.gpu_options.visible_device_list = ",".join(str(v) for v in visible)
        if limit is not None:
            for _ in range(max(len(visible or [0]), 1)):
                config.gpu_options.experimental.virtual_devices.add(memory_limit_mb=[float(limit)])
        return {"intra_op_threads": intra, "inter_op_threads": inter, "allow_growth": growth,
                "memory_fraction": fraction, "visible_devices": visible, "memory_limit_mb": limit,
                "hex": config.SerializeToString(deterministic=True).hex()}

    cases = [proto(), proto(intra=4, inter=2), proto(intra=1), proto(growth=True), proto(fraction=0.5),
             proto(visible=[1]), proto(limit=1024), proto(visible=[0, 2], limit=2048),
             proto(intra=8, inter=3, growth=True, fraction=0.25, visible=[0, 1], limit=512)]
    with open(os.path.join(out_dir, "config_proto.json"), "w") as f:
        json.dump(cases, f, indent=1)


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number, payload):
    """A length-delimited protobuf field."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def warmup_file(path, requests):
    """TF Serving's assets.extra/tf_serving_warmup_requests: a TFRecord file of PredictionLog protos
    (predict_log = 6 -> request = 1 -> model_spec = 1 {signature_name = 3}, inputs = 2 map entries),
    with each TensorProto serialized by TensorFlow itself."""
    with tf.io.TFRecordWriter(path) as writer:
        for signature, inputs in requests:
            request = field(1, field(3, signature.encode()))
            for name, value in inputs.items():
                proto = value if hasattr(value, "SerializeToString") else tf.make_tensor_proto(value)
                tensor = proto.SerializeToString()
                request += field(2, field(1, name.encode()) + field(2, tensor))
            writer.write(field(6, field(1, request)))


def make_warmup_files(out_dir, rng):
    requests = [("serving_default", {"pixels": rng.random((n, 784), dtype=np.float32)}) for n in (1, 2)]
    warmup_file(os.path.join(out_dir, "mlp", "warmup_requests.tfrecord"), requests)
    # Also one for two_io: features as one float_val broadcast over the shape, ids in tensor_content.
    features = tf.make_tensor_proto(1.0, dtype=tf.float32, shape=[1, 4])
    two_io = [("serving_default", {"features": features, "ids": np.array([[1, 2, 3]], np.int64)})]
    warmup_file(os.path.join(out_dir, "two_io", "warmup_requests.tfrecord"), two_io)


def make_checked(out_dir):
    """Versions of one tiny model for the monitoring tests: OUT/checked/saved_model fails at run
    time on inputs holding NaN (check_numerics, a model error), OUT/checked/plain_model does not,
    and OUT/checked/slow_model computes the same answer after ~100 256x256 matrix products (tens of
    milliseconds of compute for a request of a few bytes), and OUT/checked/nan_model answers NaN."""
    class Checked(tf.Module):
        def __init__(self, check):
            super().__init__()
            self.check = check

        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x")])
        def serve(self, x):
            if self.check:
                x = tf.debugging.check_numerics(x, "input holds NaN or Inf")
            return {"y": x * 2.0 + 1.0}

    class Slow(tf.Module):
        def __init__(self):
            super().__init__()
            self.weight = tf.Variable(tf.random.stateless_normal([256, 256], seed=[1, 2]) / 16.0)

        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x")])
        def serve(self, x):
            state = tf.eye(256)
            for _ in tf.range(100):
                state = tf.tanh(tf.matmul(state, self.weight))
            return {"y": x * 2.0 + 1.0 + 0.0 * tf.reduce_sum(state)}

    base = os.path.join(out_dir, "checked")
    shutil.rmtree(base, ignore_errors=True)
    for name, check in (("saved_model", True), ("plain_model", False)):
        module = Checked(check)
        tf.saved_model.save(module, os.path.join(base, name), signatures={"serving_default": module.serve})
    slow = Slow()
    tf.saved_model.save(slow, os.path.join(base, "slow_model"), signatures={"serving_default": slow.serve})

    class Broken(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x")])
        def serve(self, x):
            return {"y": x * float("nan")}

    broken = Broken()
    tf.saved_model.save(broken, os.path.join(base, "nan_model"), signatures={"serving_default": broken.serve})
    print("fixture checked: saved_model (fails on NaN), plain_model, slow_model, nan_model (outputs NaN)", flush=True)


def make_sources(out_dir, rng):
    """Models in the formats `wharf convert` takes, under OUT/sources/:
      classifier.keras, classifier.h5   a small Keras dense classifier (input "features" [None, 20],
                                        output "probabilities" [None, 5])
      tf1/model.ckpt.{meta,index,data-*} a TF1 graph-mode checkpoint: placeholder "x" [None, 8],
                                        output "y" (softmax) [None, 3]
      frozen.pb                         the same TF1 graph frozen into a GraphDef
      calibration.npy                   200 rows like the mlp fixture's inputs (int8 calibration)
      unsupported_op/                   a SavedModel using Digamma, which tf2onnx and TFLite's builtins lack
      expected.json                     inputs and the outputs Python computes, per source
    """
    base = os.path.join(out_dir, "sources")
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(os.path.join(base, "tf1"))
    expected = {}

    keras = tf.keras
    features = keras.Input(shape=(20,), name="features")
    hidden = keras.layers.Dense(32, activation="relu", name="hidden")(features)
    probabilities = keras.layers.Dense(5, activation="softmax", name="probabilities")(hidden)
    classifier = keras.Model(features, probabilities, name="classifier")
    for layer in classifier.layers:
        if layer.weights:
            layer.set_weights([rng.normal(0, 0.5, w.shape).astype(np.float32) for w in layer.get_weights()])
    classifier.save(os.path.join(base, "classifier.keras"))
    classifier.save(os.path.join(base, "classifier.h5"))
    x = rng.normal(size=(4, 20)).astype(np.float32)
    expected["keras"] = {"inputs": {"features": encode(x)},
                         "outputs": {"probabilities": encode(classifier(x, training=False).numpy())}}

    w = rng.normal(0, 0.5, (8, 3)).astype(np.float32)
    b = rng.normal(0, 0.1, (3,)).astype(np.float32)
    graph = tf.Graph()
    with graph.as_default():
        x_in = tf.compat.v1.placeholder(tf.float32, [None, 8], name="x")
        weights = tf.compat.v1.get_variable("weights", initializer=w)
        bias = tf.compat.v1.get_variable("bias", initializer=b)
        y = tf.nn.softmax(tf.matmul(x_in, weights) + bias, name="y")
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            tf.compat.v1.train.Saver().save(session, os.path.join(base, "tf1", "model.ckpt"))
            frozen = tf.compat.v1.graph_util.convert_variables_to_constants(session, graph.as_graph_def(), ["y"])
            x = rng.normal(size=(4, 8)).astype(np.float32)
            expected["tf1"] = {"inputs": {"x": encode(x)}, "outputs": {"y": encode(session.run(y, {x_in: x}))}}
    with open(os.path.join(base, "frozen.pb"), "wb") as f:
        f.write(frozen.SerializeToString())

    np.save(os.path.join(base, "calibration.npy"), rng.random((200, 784), dtype=np.float32))

    class Digamma(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x")])
        def serve(self, x):
            return {"y": tf.math.digamma(x + 2.0)}

    digamma = Digamma()
    tf.saved_model.save(digamma, os.path.join(base, "unsupported_op"), signatures={"serving_default": digamma.serve})
    with open(os.path.join(base, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    print("fixture sources: classifier.keras, classifier.h5, tf1 checkpoint, frozen.pb, calibration.npy, unsupported_op", flush=True)


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(SEED)
    tf.random.set_seed(SEED)
    for make in (make_mlp, make_cnn, make_two_io, make_strings, make_multi_signature, make_dtypes):
        build(make(rng), out_dir)
    make_checked(out_dir)
    config_proto_cases(out_dir)
    make_warmup_files(out_dir, rng)
    make_sources(out_dir, rng)
    with open(os.path.join(out_dir, "versions.json"), "w") as f:
        json.dump({"tensorflow": tf.__version__, "onnxruntime": ort.__version__, "tf2onnx": tf2onnx.__version__}, f)


if __name__ == "__main__":
    main()
