"""Wharf's model converters: the only place that calls TensorFlow's and tf2onnx's Python converters.

Subcommands (each prints one JSON object on stdout; progress lines on stderr start with "progress:"):
  to-savedmodel SRC OUT        a .keras/.h5 file, a TF1 checkpoint (.meta + prefix), a frozen GraphDef
                               (.pb) or a SavedModel (copied) -> SavedModel with "serving_default"
  to-onnx SRC OUT.onnx         SavedModel -> ONNX with tf2onnx (--opset, default 17)
  to-tflite SRC OUT.tflite     SavedModel -> TensorFlow Lite (--quantize fp16|int8|dynamic,
                               --calibration-data for int8, --select-tf-ops)
  parity SRC CONVERTED         runs the same inputs through SRC (TensorFlow) and CONVERTED (.onnx,
                               .tflite or a SavedModel) and reports the differences per output

to-onnx, to-tflite and parity also take the other source kinds; they are turned into a temporary
SavedModel first. A failure exits with status 2 and prints {"error": ..., "kind": ..., "op": ...}:
"op" names the TensorFlow op that could not be converted, when one is to blame.

Parity, per output of the reference:
  max_abs_error   max |converted - reference| over all elements
  max_rel_error   max |converted - reference| / max(|reference|, floor) over all elements, with
                  floor = max(1e-3 * max |reference|, 1e-6), so elements near zero do not blow it up
  top1_agreement  fraction of rows (all leading dimensions) whose argmax over the last dimension
                  agrees; only for float outputs of rank >= 2 whose last dimension is > 1, else null
A NaN where the other side has a number counts as an infinite error.
"""

import argparse
import contextlib
import json
import logging
import math
import os
import shutil
import sys
import tempfile
import traceback
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DEFAULT_OPSET = 17
DEFAULT_SAMPLES = 8
SIGNATURE = "serving_default"
QUANTIZATIONS = ("fp16", "int8", "dynamic")


class Failure(Exception):
    """A failure reported to the caller as JSON: a message, a kind to match on, and the op to blame."""

    def __init__(self, message, kind="conversion_failed", op=None):
        super().__init__(message)
        self.kind = kind
        self.op = op


def progress(message):
    print(f"progress: {message}", file=sys.stderr, flush=True)


def first_line(error):
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


@contextlib.contextmanager
def reading(path, what):
    """Turns a loader's exception into a Failure that says which model could not be read."""
    try:
        yield
    except Failure:
        raise
    except Exception as error:  # loaders raise OSError, ValueError, DecodeError, ... for bad files
        raise Failure(f"cannot read the {what} at {path}: {first_line(error)}", "invalid_model") from None


# Sources ------------------------------------------------------------------------------------------

def source_kind(path):
    """(kind, path) of a model source: saved_model, keras, checkpoint (path = checkpoint prefix) or
    frozen_graph."""
    if os.path.isdir(path):
        if any(os.path.exists(os.path.join(path, f)) for f in ("saved_model.pb", "saved_model.pbtxt")):
            return "saved_model", path
        metas = sorted(f for f in os.listdir(path) if f.endswith(".meta"))
        if len(metas) == 1:
            return "checkpoint", os.path.join(path, metas[0][: -len(".meta")])
        raise Failure(f"{path} holds no model: expected a SavedModel (saved_model.pb) or one checkpoint .meta file",
                      "unsupported_source")
    lower = path.lower()
    if os.path.exists(path + ".meta"):
        return "checkpoint", path
    if not os.path.exists(path):
        raise Failure(f"no model at {path}: the path does not exist", "source_not_found")
    if lower.endswith((".keras", ".h5")):
        return "keras", path
    if lower.endswith(".meta"):
        return "checkpoint", path[: -len(".meta")]
    if os.path.basename(lower) in ("saved_model.pb", "saved_model.pbtxt"):
        return "saved_model", os.path.dirname(path) or "."
    if lower.endswith(".pb"):
        return "frozen_graph", path
    raise Failure(f"{path} is not a model Wharf converts: expected a SavedModel directory, .keras/.h5, "
                  "a TF1 checkpoint (.meta) or a frozen graph (.pb)", "unsupported_source")


def tensor_names(text):
    """'a:0,b' -> ['a:0', 'b:0']."""
    if not text:
        return None
    return [n if ":" in n else n + ":0" for n in (p.strip() for p in text.split(",")) if n]


def signature_key(tensor_name):
    op, _, index = tensor_name.partition(":")
    key = op.replace("/", "_")
    return key if index in ("", "0") else f"{key}_{index}"


def guess_io(graph, inputs, outputs):
    """The graph's placeholders as inputs, and its one obvious output: an op fed (directly or not) by
    the inputs whose outputs nothing consumes."""
    if not inputs:
        inputs = [op.outputs[0].name for op in graph.get_operations()
                  if op.type == "Placeholder" and not op.name.startswith("save/")]
        if not inputs:
            raise Failure("the graph has no placeholders; name its inputs with --inputs", "missing_io")
    if not outputs:
        reached, frontier = set(), [graph.get_tensor_by_name(n).op for n in inputs]
        while frontier:
            op = frontier.pop()
            if op.name in reached:
                continue
            reached.add(op.name)
            frontier.extend(c for t in op.outputs for c in t.consumers())
        ends = [op for op in graph.get_operations()
                if op.name in reached and op.outputs and op.type not in ("NoOp", "Assert")
                and not any(t.consumers() for t in op.outputs)]
        if len(ends) != 1:
            found = ", ".join(op.name for op in ends[:10]) or "none"
            raise Failure(f"cannot tell the graph's output (candidates: {found}); name it with --outputs",
                          "missing_io")
        outputs = [t.name for t in ends[0].outputs]
    for name in inputs + outputs:
        try:
            graph.get_tensor_by_name(name)
        except (KeyError, ValueError):
            raise Failure(f"the graph has no tensor '{name}'", "missing_io") from None
    return inputs, outputs


def save_v1_session(tf, session, inputs, outputs, out):
    graph = session.graph
    signature = tf.compat.v1.saved_model.signature_def_utils.predict_signature_def(
        inputs={signature_key(n): graph.get_tensor_by_name(n) for n in inputs},
        outputs={signature_key(n): graph.get_tensor_by_name(n) for n in outputs})
    builder = tf.compat.v1.saved_model.Builder(out)
    builder.add_meta_graph_and_variables(session, ["serve"], signature_def_map={SIGNATURE: signature})
    builder.save()


def keras_to_savedmodel(src, out):
    import keras
    import tensorflow as tf

    progress(f"loading Keras model {src}")
    with reading(src, "Keras model"):
        model = keras.models.load_model(src, compile=False)
    names = list(getattr(model, "output_names", None) or [f"output_{i}" for i in range(len(model.outputs))])
    specs = [tf.TensorSpec(t.shape, t.dtype, name=t.name.split(":")[0]) for t in model.inputs]

    def serve(*args):
        result = model(list(args) if len(args) > 1 else args[0], training=False)
        return dict(zip(names, tf.nest.flatten(result)))

    progress("exporting the SavedModel")
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(SIGNATURE, serve, input_signature=specs)
    archive.write_out(out, verbose=False)
    return f"keras {keras.__version__}", {"source_format": "keras"}


def graph_to_savedmodel(kind, src, out, inputs, outputs):
    import tensorflow as tf

    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as session:
        if kind == "checkpoint":
            progress(f"restoring checkpoint {src}")
            with reading(src, "checkpoint"):
                saver = tf.compat.v1.train.import_meta_graph(src + ".meta", clear_devices=True)
                saver.restore(session, src)
        else:
            progress(f"importing frozen graph {src}")
            graph_def = tf.compat.v1.GraphDef()
            with reading(src, "frozen graph"), open(src, "rb") as f:
                graph_def.ParseFromString(f.read())
                tf.import_graph_def(graph_def, name="")
        inputs, outputs = guess_io(graph, inputs, outputs)
        progress(f"writing the SavedModel (inputs {', '.join(inputs)}; outputs {', '.join(outputs)})")
        save_v1_session(tf, session, inputs, outputs, out)
    return f"tensorflow {tf.__version__} (tf.compat.v1)", {
        "source_format": kind, "inputs": ",".join(inputs), "outputs": ",".join(outputs)}


def to_savedmodel(src, out, inputs=None, outputs=None):
    """Writes SRC as a SavedModel at OUT; returns (converter, parameters)."""
    kind, path = source_kind(src)
    if kind == "saved_model":
        progress(f"copying SavedModel {path}")
        shutil.copytree(path, out)
        return "copy", {"source_format": kind}
    if kind == "keras":
        return keras_to_savedmodel(path, out)
    return graph_to_savedmodel(kind, path, out, inputs, outputs)


class SavedModelSource:
    """SRC as a SavedModel directory: itself, or a temporary conversion removed on exit."""

    def __init__(self, src, args):
        self.src, self.args, self.tmp = src, args, None

    def __enter__(self):
        kind, path = source_kind(self.src)
        if kind == "saved_model":
            return path
        self.tmp = tempfile.mkdtemp(prefix="wharf-convert-")
        out = os.path.join(self.tmp, "saved_model")
        to_savedmodel(self.src, out, tensor_names(getattr(self.args, "inputs_names", None)),
                      tensor_names(getattr(self.args, "outputs_names", None)))
        return out

    def __exit__(self, *exc):
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)


# Conversions --------------------------------------------------------------------------------------

class OpCollector(logging.Handler):
    """Collects the ops tf2onnx logs as unsupported or failed."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.ops = []

    def emit(self, record):
        message = str(record.msg)
        if message.startswith("Tensorflow op [") and len(record.args) >= 2:
            self.ops.append(str(record.args[1]))
        elif message.startswith("Failed to convert node") and record.args:
            self.ops.append(str(record.args[0]))


def to_onnx(src, out, opset):
    import onnx
    import tf2onnx
    from tf2onnx import tf_loader

    logger = logging.getLogger("tf2onnx")
    collector = OpCollector()
    logger.addHandler(collector)
    progress(f"loading SavedModel {src}")
    with reading(src, "SavedModel"):
        graph_def, inputs, outputs, _, renames = tf_loader.from_saved_model(
            src, None, None, tag="serve", signatures=[SIGNATURE],
            return_initialized_tables=True, return_tensors_to_rename=True)
    progress(f"converting with tf2onnx {tf2onnx.__version__} (opset {opset})")
    model, _ = tf2onnx.convert.from_graph_def(
        graph_def, name=os.path.basename(src.rstrip("/")), input_names=inputs, output_names=outputs,
        opset=opset, tensors_to_rename=renames)
    if collector.ops:
        op = collector.ops[0]
        raise Failure(f"tf2onnx cannot convert op '{op}' (opset {opset})", "unsupported_op", op)
    onnx.checker.check_model(model)
    onnx.save(model, out)
    return f"tf2onnx {tf2onnx.__version__}", {"opset": str(opset)}


def read_rows(path, names, limit=None):
    """Rows from a .npy file (one array, for a single-input model) or a .jsonl file (one row per line:
    a value for a single-input model, or an object keyed by input name) as {input: array}."""
    import numpy as np

    if not os.path.isfile(path):
        raise Failure(f"cannot read {path}: no such file", "bad_inputs")
    if path.endswith(".npy"):
        if len(names) != 1:
            raise Failure(f"{path} holds one array, but the model has inputs {', '.join(names)}; "
                          "use a .jsonl file with one object per row", "bad_inputs")
        try:
            array = np.load(path, allow_pickle=False)
        except ValueError as error:
            raise Failure(f"{path} is not a .npy array: {error}", "bad_inputs") from None
        columns = {names[0]: array}
    elif path.endswith(".jsonl"):
        columns = {n: [] for n in names}
        with open(path) as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError as error:
                    raise Failure(f"{path} line {number}: {error}", "bad_inputs") from None
                if not isinstance(row, dict):
                    row = {names[0]: row} if len(names) == 1 else None
                if row is None or set(row) != set(names):
                    raise Failure(f"{path} line {number}: expected an object with {', '.join(names)}",
                                  "bad_inputs")
                for n in names:
                    columns[n].append(row[n])
        columns = {n: np.asarray(v) for n, v in columns.items()}
    else:
        raise Failure(f"{path}: input rows come from a .npy or .jsonl file", "bad_inputs")
    if limit:
        columns = {n: v[:limit] for n, v in columns.items()}
    if not columns or len(next(iter(columns.values()))) == 0:
        raise Failure(f"{path} holds no rows", "bad_inputs")
    return columns


def serving_signature(tf, path):
    """The SavedModel's serving_default function, and its inputs as {name: (numpy dtype, shape)}."""
    signatures = tf.saved_model.load(path).signatures
    if SIGNATURE not in signatures:
        raise Failure(f"the SavedModel at {path} has no '{SIGNATURE}' signature (it has: "
                      f"{', '.join(sorted(signatures)) or 'none'})", "invalid_model")
    function = signatures[SIGNATURE]
    inputs = {n: (s.dtype.as_numpy_dtype, s.shape.as_list() if s.shape.rank is not None else None)
              for n, s in function.structured_input_signature[1].items()}
    return function, inputs


def to_tflite(src, out, quantize, calibration, samples, select_tf_ops):
    import numpy as np
    import tensorflow as tf

    progress(f"loading SavedModel {src}")
    with reading(src, "SavedModel"):
        converter = tf.lite.TFLiteConverter.from_saved_model(src, signature_keys=[SIGNATURE])
    parameters = {"quantization": quantize or "none", "select_tf_ops": str(bool(select_tf_ops)).lower()}
    ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "fp16":
        converter.target_spec.supported_types = [tf.float16]
    elif quantize == "int8":
        _, specs = serving_signature(tf, src)
        rows = read_rows(calibration, sorted(specs), samples)
        count = len(next(iter(rows.values())))
        progress(f"calibrating int8 ranges on {count} rows of {calibration}")

        def representative():
            for i in range(count):
                yield {n: np.asarray(v[i: i + 1], dtype=specs[n][0]) for n, v in rows.items()}

        converter.representative_dataset = representative
        ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        parameters.update(calibration_samples=str(count), calibration_data=os.path.basename(calibration))
    if select_tf_ops:
        ops.append(tf.lite.OpsSet.SELECT_TF_OPS)
    converter.target_spec.supported_ops = ops
    progress(f"converting with TFLiteConverter (quantization {quantize or 'none'})")
    try:
        flatbuffer = converter.convert()
    except Exception as error:  # the converter's ConverterError names the op it cannot lower
        raise tflite_failure(error, select_tf_ops) from None
    with open(out, "wb") as f:
        f.write(flatbuffer)
    return f"TFLiteConverter (tensorflow {tf.__version__})", parameters


def tflite_failure(error, select_tf_ops):
    import re

    text = str(error)
    match = re.search(r"'tf\.(\w+)' op is neither a custom op nor a flex op", text) or \
        re.search(r"'tf\.(\w+)' op", text)
    if match:
        op = match.group(1)
        hint = "" if select_tf_ops else "; --select-tf-ops keeps it as a TensorFlow op"
        return Failure(f"TFLiteConverter cannot convert op '{op}'{hint}", "unsupported_op", op)
    first = next((line.strip() for line in text.splitlines() if "error" in line.lower()), text.strip()[:300])
    return Failure(f"TFLiteConverter failed: {first}")


# Parity -------------------------------------------------------------------------------------------

class Runner:
    """Runs one model on {input: array} and returns {output: array}; a SavedModel's `inputs` are
    {name: (numpy dtype, shape)}."""

    def __init__(self, path):
        with reading(path, "model"):
            self.load(path)

    def load(self, path):
        import tensorflow as tf

        if path.lower().endswith(".onnx"):
            import onnxruntime as ort

            self.session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
            self.describe = f"onnxruntime {ort.__version__}"
            self.run = self.run_onnx
        elif path.lower().endswith(".tflite"):
            runner = tf.lite.Interpreter(model_path=path).get_signature_runner(SIGNATURE)
            self.describe = f"tf.lite.Interpreter (tensorflow {tf.__version__})"
            self.run = lambda feed: runner(**feed)
        else:
            function, self.inputs = serving_signature(tf, path)
            self.describe = f"tensorflow {tf.__version__}"
            self.run = lambda feed: {k: v.numpy() for k, v in function(
                **{n: tf.constant(a) for n, a in feed.items()}).items()}

    def run_onnx(self, feed):
        names = [i.name for i in self.session.get_inputs()]
        if set(names) != set(feed) and len(names) == len(feed) == 1:
            feed = {names[0]: next(iter(feed.values()))}
        outputs = [o.name for o in self.session.get_outputs()]
        return dict(zip(outputs, self.session.run(outputs, feed)))


def synthesize(specs, samples, seed):
    import numpy as np

    rng = np.random.default_rng(seed)
    feed = {}
    for name, (dtype, shape) in sorted(specs.items()):
        dims = [samples] + [d if d else 1 for d in (shape or [None])[1:]]
        kind = np.dtype(dtype).kind
        if kind == "f":
            feed[name] = rng.standard_normal(dims).astype(dtype)
        elif kind in "iu":
            feed[name] = rng.integers(0, 10, dims).astype(dtype)
        elif kind == "b":
            feed[name] = rng.random(dims) < 0.5
        else:
            raise Failure(f"cannot synthesize input '{name}' of type {np.dtype(dtype).name}; pass --inputs",
                          "bad_inputs")
    return feed


def compare(reference, candidate):
    import numpy as np

    floating = np.asarray(reference).dtype.kind == "f"
    r = np.asarray(reference, dtype=np.float64)
    c = np.asarray(candidate, dtype=np.float64)
    if r.shape != c.shape:
        if r.size != c.size:
            raise Failure(f"shapes differ: reference {list(r.shape)}, converted {list(c.shape)}", "parity_mismatch")
        c = c.reshape(r.shape)
    if r.size == 0:
        return 0.0, 0.0, None
    both_nan = np.isnan(r) & np.isnan(c)
    diff = np.where(both_nan, 0.0, np.abs(c - r))
    diff = np.where(np.isnan(diff), np.inf, diff)
    floor = max(1e-3 * float(np.nanmax(np.abs(r), initial=0.0)), 1e-6)
    max_abs = float(diff.max())
    max_rel = float((diff / np.maximum(np.abs(np.nan_to_num(r)), floor)).max())
    top1 = None
    if floating and r.ndim >= 2 and r.shape[-1] > 1:
        rows_r, rows_c = r.reshape(-1, r.shape[-1]), c.reshape(-1, r.shape[-1])
        top1 = float(np.mean(np.argmax(rows_r, axis=1) == np.argmax(rows_c, axis=1)))
    return max_abs, max_rel, top1


def parity(src, converted, inputs_file, samples, seed):
    progress(f"parity: loading the reference {src}")
    reference = Runner(src)
    progress(f"parity: loading the converted model {os.path.basename(converted).removeprefix('.partial-')}")
    candidate = Runner(converted)
    names = sorted(reference.inputs)
    if inputs_file:
        feed = read_rows(inputs_file, names, samples)
        feed = {n: v.astype(reference.inputs[n][0]) for n, v in feed.items()}
        origin = os.path.basename(inputs_file)
    else:
        feed = synthesize(reference.inputs, samples or DEFAULT_SAMPLES, seed)
        origin = f"synthesized (normal, seed {seed})"
    count = len(next(iter(feed.values())))
    progress(f"parity: running {count} rows through {reference.describe} and {candidate.describe}")
    expected = reference.run(feed)
    actual = candidate.run(feed)
    if set(actual) != set(expected) and len(actual) == len(expected) == 1:
        actual = {next(iter(expected)): next(iter(actual.values()))}
    outputs = {}
    for name in sorted(expected):
        if name not in actual:
            raise Failure(f"the converted model has no output '{name}'; it has {', '.join(sorted(actual))}",
                          "parity_mismatch")
        try:
            max_abs, max_rel, top1 = compare(expected[name], actual[name])
        except Failure as failure:
            raise Failure(f"output '{name}': {failure}", failure.kind) from None
        outputs[name] = {"max_abs_error": max_abs, "max_rel_error": max_rel, "top1_agreement": top1}
    return {"reference": reference.describe, "candidate": candidate.describe, "samples": count,
            "inputs": origin, "outputs": outputs}


# Command line -------------------------------------------------------------------------------------

def finite(value):
    """JSON has no infinities: they travel as the strings "Infinity", "-Infinity" and "NaN"."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    return value


def size_of(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)


def convert_command(args):
    quantize = getattr(args, "quantize", None)
    if quantize == "int8" and not args.calibration_data:
        raise Failure("int8 quantization needs --calibration-data (a .npy or .jsonl file of typical inputs)",
                      "missing_calibration")
    if args.parity and args.command == "to-savedmodel":
        raise Failure("parity compares a converted model with its SavedModel; convert to onnx or tflite", "usage")
    source_kind(args.src)  # a missing or unknown source fails here, before TensorFlow loads
    out = os.path.abspath(args.out)
    if os.path.exists(out) and not args.overwrite:
        raise Failure(f"{out} already exists; remove it or pass --overwrite", "output_exists")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    partial = os.path.join(os.path.dirname(out), ".partial-" + os.path.basename(out))  # keeps the extension
    remove(partial)
    try:
        if args.command == "to-savedmodel":
            fmt = "saved_model"
            converter, parameters = to_savedmodel(args.src, partial, tensor_names(args.inputs_names),
                                                  tensor_names(args.outputs_names))
            report = None
        else:
            with SavedModelSource(args.src, args) as saved:
                if args.command == "to-onnx":
                    fmt = "onnx"
                    converter, parameters = to_onnx(saved, partial, args.opset)
                else:
                    fmt = "tflite"
                    converter, parameters = to_tflite(saved, partial, quantize, args.calibration_data,
                                                      args.calibration_samples, args.select_tf_ops)
                # int8 is checked on the calibration rows unless told otherwise: its ranges only
                # fit inputs like the ones they were calibrated on.
                inputs = args.parity_inputs or (args.calibration_data if quantize == "int8" else None)
                report = parity(saved, partial, inputs, args.parity_samples, args.seed) if args.parity else None
        remove(out)
        os.replace(partial, out)
        progress(f"wrote {out}")
    finally:
        remove(partial)
    result = {"output": out, "format": fmt, "variant": quantize or "fp32", "size_bytes": size_of(out),
              "source": os.path.abspath(args.src), "converter": converter, "parameters": parameters}
    if report:
        result["parity"] = report
    return result


def remove(path):
    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.remove(path)


def parity_command(args):
    source_kind(args.src)
    if not os.path.exists(args.converted):
        raise Failure(f"no model at {args.converted}: the path does not exist", "source_not_found")
    with SavedModelSource(args.src, args) as saved:
        return parity(saved, args.converted, args.inputs, args.samples, args.seed)


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise Failure(f"{self.prog}: {message}", "usage")


def parser():
    root = Parser(prog="convert.py", description="Wharf's model converters (JSON on stdout).")
    root.add_argument("--debug", action="store_true", help="show converter logs and tracebacks")
    commands = root.add_subparsers(dest="command", required=True, parser_class=Parser)

    def command(name, help_text):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)
        return sub

    def io_names(sub):
        sub.add_argument("--inputs", dest="inputs_names", help="TF1 sources: input tensors, a:0,b:0")
        sub.add_argument("--outputs", dest="outputs_names", help="TF1 sources: output tensors, y:0")

    def target(sub):
        sub.add_argument("src")
        sub.add_argument("out")
        sub.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
        sub.add_argument("--parity", action="store_true", help="also run parity against SRC (result key \"parity\")")
        sub.add_argument("--parity-inputs", help="parity input rows, .npy or .jsonl (default: synthesized; "
                         "the calibration data for int8)")
        sub.add_argument("--parity-samples", type=int, help=f"parity rows (default: {DEFAULT_SAMPLES}, or all in the file)")
        sub.add_argument("--seed", type=int, default=0, help="parity: seed of the synthesized inputs")
        io_names(sub)
        sub.set_defaults(handler=convert_command)

    target(command("to-savedmodel", "Keras, TF1 checkpoint, frozen graph or SavedModel -> SavedModel"))
    onnx = command("to-onnx", "SavedModel -> ONNX (tf2onnx)")
    target(onnx)
    onnx.add_argument("--opset", type=int, default=DEFAULT_OPSET)
    tflite = command("to-tflite", "SavedModel -> TensorFlow Lite")
    target(tflite)
    tflite.add_argument("--quantize", choices=QUANTIZATIONS)
    tflite.add_argument("--calibration-data", help="int8: typical inputs, .npy or .jsonl")
    tflite.add_argument("--calibration-samples", type=int, help="int8: calibrate on at most this many rows")
    tflite.add_argument("--select-tf-ops", action="store_true", help="keep unsupported ops as TensorFlow ops")
    check = command("parity", "compare a converted model with its SavedModel")
    check.add_argument("src")
    check.add_argument("converted")
    check.add_argument("--inputs", help="input rows, .npy or .jsonl (default: synthesized)")
    check.add_argument("--samples", type=int, help=f"rows to run (default: {DEFAULT_SAMPLES}, or all in --inputs)")
    check.add_argument("--seed", type=int, default=0)
    check.set_defaults(handler=parity_command)
    return root


def quiet(debug):
    """Converter chatter stays out of the way unless --debug: Python warnings, TensorFlow's and
    tf2onnx's loggers (tf2onnx logs tracebacks at ERROR level)."""
    if debug:
        return
    warnings.filterwarnings("ignore")
    for name in ("tensorflow", "tf2onnx", "absl"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.CRITICAL if name != "tf2onnx" else logging.ERROR)
        logger.propagate = False
        for handler in list(logger.handlers):
            logger.removeHandler(handler)


def main(argv):
    # Native code (TensorFlow, the TFLite converter) may print on stdout: keep the real stdout for
    # the JSON answer alone and send everything else to stderr.
    answer = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    debug = "--debug" in argv
    try:
        args = parser().parse_args(argv)
        quiet(debug)
        if args.command == "to-tflite" and args.quantize != "int8" and args.calibration_data:
            progress("--calibration-data is only used by --quantize int8; ignoring it")
        result, status = args.handler(args), 0
    except Failure as failure:
        result, status = {"error": str(failure), "kind": failure.kind, "op": failure.op}, 2
    except Exception as error:  # a converter's own exception: report it, keep the traceback for --debug
        if debug:
            traceback.print_exc()
        result = {"error": f"{type(error).__name__}: {first_line(error)}", "kind": "conversion_failed", "op": None}
        status = 2
    answer.write(json.dumps(finite(result)) + "\n")
    answer.flush()
    sys.stderr.flush()
    # TensorFlow's atexit handlers can be slow or noisy; the answer is out.
    os._exit(status)


if __name__ == "__main__":
    main(sys.argv[1:])
