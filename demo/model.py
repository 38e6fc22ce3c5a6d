"""The demo's training script: a small numpy MLP on a seeded synthetic data set, a few seconds.

    python3 model.py --learning_rate=0.05 --dropout=0.25 --activation=relu --num_epochs=3

Each epoch trains `num_steps` mini-batches of `batch_size` examples, then evaluates on held-out
data and prints one line. Run by the dashboard's worker, it also reports
`{"values": {"loss", "accuracy", "epoch"}}` after every epoch with one POST to
`$POLYAXON_API_URL/metrics` (`Authorization: token $POLYAXON_TOKEN`), and writes TensorBoard
scalars into `$POLYAXON_RUN_OUTPUTS_PATH` when the `tensorboard` package is importable. Without
those variables it only prints, so it runs by hand as well. Needs numpy only.
"""

import argparse
import json
import math
import os
import sys
import time
import urllib.error
import urllib.request

# Several experiments share the machine: one BLAS thread each keeps them from fighting.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402

# Generous caps, so a typo such as --num_steps=5000000 still ends in seconds, not hours.
LIMITS = {"batch_size": (1, 1024), "num_steps": (1, 2000), "num_epochs": (1, 50)}
FEATURES, HIDDEN, TRAIN_SIZE, TEST_SIZE = 16, 64, 4096, 1024
DATA_SEED = 0


def parse_args(argv=None):
    """The reference polyaxonfile's flags, with its declarations as defaults."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch_size", type=int, default=128)
    parser.add_argument("--num_steps", type=int, default=500, help="mini-batches per epoch")
    parser.add_argument("--learning_rate", type=float, default=0.01)
    parser.add_argument("--dropout", type=float, default=0.25, help="drop rate of hidden units")
    parser.add_argument("--num_epochs", type=int, default=1)
    parser.add_argument("--activation", choices=["relu", "sigmoid"], default="relu")
    parser.add_argument(
        "--seed", type=int, default=None, help="for the weights and batches (default: a random one)"
    )
    args = parser.parse_args(argv)
    for name, (low, high) in LIMITS.items():
        value = getattr(args, name)
        if not low <= value <= high:
            clamped = min(max(value, low), high)
            print(f"{name}={value} is outside [{low}, {high}]; using {clamped}", flush=True)
            setattr(args, name, clamped)
    if not 0 <= args.dropout < 1:
        parser.error("--dropout must be in [0, 1)")
    if not math.isfinite(args.learning_rate) or args.learning_rate <= 0:
        parser.error("--learning_rate must be a positive number")
    return args


def make_data():
    """Two classes split by a curved boundary in 16 dimensions; the same for every run."""
    rng = np.random.default_rng(DATA_SEED)
    x = rng.normal(size=(TRAIN_SIZE + TEST_SIZE, FEATURES))
    w = rng.normal(size=(FEATURES, 2))
    u, v = (x @ w / np.linalg.norm(w, axis=0)).T  # two standard-normal directions
    score = u + np.sin(2.0 * v) + 0.5 * v**2
    flip = rng.random(len(x)) < 0.05  # label noise: 95% is about the best one can do
    y = ((score > np.median(score)) ^ flip).astype(float)
    return (x[:TRAIN_SIZE], y[:TRAIN_SIZE]), (x[TRAIN_SIZE:], y[TRAIN_SIZE:])


ACTIVATIONS = {
    # name: (function, derivative expressed through the activation's output)
    "relu": (lambda z: np.maximum(z, 0.0), lambda a: (a > 0).astype(float)),
    "sigmoid": (lambda z: 1.0 / (1.0 + np.exp(-z)), lambda a: a * (1.0 - a)),
}


class MLP:
    """One hidden layer, dropout on it, a logistic output; plain mini-batch SGD."""

    def __init__(self, activation, dropout, rng):
        self.act, self.act_grad = ACTIVATIONS[activation]
        self.dropout = dropout
        self.rng = rng
        self.w1 = rng.normal(scale=(2.0 / FEATURES) ** 0.5, size=(FEATURES, HIDDEN))
        self.b1 = np.zeros(HIDDEN)
        self.w2 = rng.normal(scale=(1.0 / HIDDEN) ** 0.5, size=HIDDEN)
        self.b2 = 0.0

    def _forward(self, x, train):
        """(hidden activations, dropout mask or None, output probabilities)."""
        hidden = self.act(x @ self.w1 + self.b1)
        mask = None
        if train and self.dropout:
            mask = (self.rng.random(hidden.shape) >= self.dropout) / (1.0 - self.dropout)
        kept = hidden if mask is None else hidden * mask
        logits = np.clip(kept @ self.w2 + self.b2, -30, 30)
        return hidden, mask, 1.0 / (1.0 + np.exp(-logits))

    def step(self, x, y, learning_rate):
        """One SGD step on a batch; returns the batch's loss."""
        hidden, mask, p = self._forward(x, train=True)
        kept = hidden if mask is None else hidden * mask
        d_logits = (p - y) / len(y)
        d_hidden = np.outer(d_logits, self.w2)
        if mask is not None:
            d_hidden *= mask
        d_pre = d_hidden * self.act_grad(hidden)
        grads = [x.T @ d_pre, d_pre.sum(axis=0), kept.T @ d_logits, d_logits.sum()]
        # Clip the global norm, so a large learning rate learns badly instead of blowing up.
        norm = math.sqrt(sum(float(np.sum(g * g)) for g in grads))
        scale = learning_rate * min(1.0, 5.0 / (norm + 1e-12))
        self.w1 -= scale * grads[0]
        self.b1 -= scale * grads[1]
        self.w2 -= scale * grads[2]
        self.b2 -= scale * grads[3]
        return log_loss(y, p)

    def evaluate(self, x, y):
        """(loss, accuracy) on held-out data, without dropout."""
        _, _, p = self._forward(x, train=False)
        return log_loss(y, p), float(np.mean((p > 0.5) == (y > 0.5)))


def log_loss(y, p):
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


class Reporter:
    """Where an epoch's numbers go besides stdout: the dashboard and TensorBoard, when set up."""

    def __init__(self, environ):
        self.api_url = environ.get("POLYAXON_API_URL")
        self.token = environ.get("POLYAXON_TOKEN")
        self.writer = None
        outputs = environ.get("POLYAXON_RUN_OUTPUTS_PATH")
        if outputs:
            try:
                from tensorboard.compat.proto import event_pb2, summary_pb2
                from tensorboard.summary.writer.event_file_writer import EventFileWriter
            except ImportError:
                print("tensorboard is not installed: no TensorBoard scalars", flush=True)
            else:
                os.makedirs(outputs, exist_ok=True)
                self.writer = EventFileWriter(outputs)
                self.event_pb2, self.summary_pb2 = event_pb2, summary_pb2

    def report(self, epoch, values):
        if self.api_url and self.token:
            self._post({**values, "epoch": epoch})
        if self.writer is not None:
            summary = self.summary_pb2.Summary(
                value=[
                    self.summary_pb2.Summary.Value(tag=name, simple_value=value)
                    for name, value in values.items()
                ]
            )
            self.writer.add_event(
                self.event_pb2.Event(wall_time=time.time(), step=epoch, summary=summary)
            )
            self.writer.flush()

    def _post(self, values):
        request = urllib.request.Request(
            self.api_url.rstrip("/") + "/metrics",
            method="POST",
            data=json.dumps({"values": values}).encode(),
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
        except (urllib.error.URLError, OSError) as exc:
            # Training goes on; the log says why the dashboard misses this epoch.
            print(f"could not report metrics: {exc}", file=sys.stderr, flush=True)

    def close(self):
        if self.writer is not None:
            self.writer.close()


def train(args, reporter):
    """Train for num_epochs, reporting after each; returns the last (loss, accuracy)."""
    (x_train, y_train), (x_test, y_test) = make_data()
    rng = np.random.default_rng(args.seed)
    model = MLP(args.activation, args.dropout, rng)
    batch = min(args.batch_size, len(x_train))
    result = None
    for epoch in range(1, args.num_epochs + 1):
        started = time.monotonic()
        train_loss = 0.0
        for _ in range(args.num_steps):
            rows = rng.integers(0, len(x_train), size=batch)
            train_loss += model.step(x_train[rows], y_train[rows], args.learning_rate)
        loss, accuracy = model.evaluate(x_test, y_test)
        result = (loss, accuracy)
        print(
            f"epoch {epoch}/{args.num_epochs}: loss={loss:.4f} accuracy={accuracy:.4f} "
            f"train_loss={train_loss / args.num_steps:.4f} "
            f"({time.monotonic() - started:.2f}s)",
            flush=True,
        )
        reporter.report(epoch, {"loss": loss, "accuracy": accuracy})
    return result


def main(argv=None):
    args = parse_args(argv)
    print(f"training: {json.dumps(vars(args))}", flush=True)
    reporter = Reporter(os.environ)
    try:
        train(args, reporter)
    finally:
        reporter.close()


if __name__ == "__main__":
    main()
