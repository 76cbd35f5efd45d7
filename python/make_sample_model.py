"""Trains the demo's sample model and exports it for Wharf.

A small classifier of points in the plane into three classes (a spiral data set made here, no
download): 2 -> 32 -> 32 -> 3 with softmax, trained for a few hundred steps with real TensorFlow.
Writes OUT/saved_model (signature serving_default: "point" float32 [-1, 2] -> "probabilities",
"class") and OUT/model.onnx (tf2onnx), and OUT/request.json with sample instances.

Usage: python make_sample_model.py OUT
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf2onnx  # noqa: E402


def spiral(rng, per_class=200, classes=3):
    points, labels = [], []
    for c in range(classes):
        r = np.linspace(0.05, 1.0, per_class)
        t = np.linspace(c * 4.0, (c + 1) * 4.0, per_class) + rng.normal(0, 0.2, per_class)
        points.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
        labels.append(np.full(per_class, c))
    return np.concatenate(points).astype(np.float32), np.concatenate(labels).astype(np.int64)


class Classifier(tf.Module):
    def __init__(self, rng):
        super().__init__()
        def layer(n_in, n_out):
            return (tf.Variable(rng.normal(0, np.sqrt(2 / n_in), (n_in, n_out)).astype(np.float32)),
                    tf.Variable(np.zeros(n_out, np.float32)))
        self.layers = [layer(2, 32), layer(32, 32), layer(32, 3)]

    def logits(self, x):
        for i, (w, b) in enumerate(self.layers):
            x = tf.matmul(x, w) + b
            if i < len(self.layers) - 1:
                x = tf.nn.relu(x)
        return x

    @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32, name="point")])
    def serve(self, point):
        probabilities = tf.nn.softmax(self.logits(point))
        return {"probabilities": probabilities, "class": tf.argmax(probabilities, axis=1)}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(7)
    x, y = spiral(rng)
    model = Classifier(rng)
    optimizer = tf.keras.optimizers.Adam(0.02)
    variables = [v for layer in model.layers for v in layer]
    for step in range(600):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, model.logits(x)))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    accuracy = float(np.mean(np.argmax(model.logits(x).numpy(), axis=1) == y))
    print(f"trained: loss {float(loss):.3f}, training accuracy {accuracy:.1%}")

    tf.saved_model.save(model, os.path.join(out, "saved_model"), signatures={"serving_default": model.serve})
    tf2onnx.convert.from_function(model.serve, input_signature=model.serve.input_signature, opset=17,
                                  output_path=os.path.join(out, "model.onnx"))
    with open(os.path.join(out, "request.json"), "w") as f:
        json.dump({"instances": [[0.0, 0.5], [-0.6, -0.2], [0.3, -0.7]]}, f)
    print(f"wrote {out}/saved_model, {out}/model.onnx and {out}/request.json")


if __name__ == "__main__":
    main()
