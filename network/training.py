"""Training: a recipe (TrainConfig), the presets, and the training loop.

The loop is a generator: each `next()` runs one step of gradient descent and
yields a Progress event.  Whoever drives it (the command line, the Train
page's worker thread, a test) can stop between any two steps, or pause by
simply not asking for the next one, and resume later.
"""

import dataclasses
import math
import time
from dataclasses import dataclass

import numpy as np

from .augment import DistortedBatch, distortions
from .csvfile import load_csv
from .digits import per_digit_subset, split_dev
from .mnist import fetch_mnist
from .model import Network, architecture, blas_threads
from .optimizers import OPTIMIZER_NAMES, OPTIMIZERS, scheduled_lr
from .recipe_rules import RULES, RecipeError
from .shapes import as_columns

DIVERGED_LOSS = 100.0  # a start-of-training loss is ln(10) = 2.3


class TrainingDiverged(RuntimeError):
    """The loss stopped being a number; the network keeps its last good weights."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides how a network is built and trained."""

    hidden: tuple = (128,)           # widths of the dense hidden layers
    conv: tuple = ()                 # (filters, kernel) of each conv + 2x2 max-pool block
    activation: str = "relu"
    init: str = "he"
    optimizer: str = "adam"
    lr: float = 0.001
    schedule: str = "constant"
    batch_size: int | None = 128     # None: full batch, every image in every step
    epochs: int | None = 5
    iterations: int | None = None    # a number of steps instead of epochs
    l2: float = 0.0
    dropout: float = 0.0
    augment: tuple = ()
    seed: int = 0
    dev_size: int = 5000             # images held out of training to measure progress
    per_class: int | None = None     # train on at most this many images of each digit
    eval_every: int | None = None    # steps between dev evaluations; None: once per epoch
    # Not used in training: how much a drawing is softened before this model
    # reads it (canvas_to_mnist's blur), since MNIST's digits have soft edges.
    input_blur: float = 0.0

    def architecture(self) -> dict:
        return architecture(self.hidden, self.activation, self.conv, self.dropout, self.init)

    def check(self) -> None:
        """Raise RecipeError with a readable message for a recipe that cannot run."""
        settings = {"activation": self.activation, "init": self.init, "optimizer": self.optimizer,
                    "schedule": self.schedule, "lr": self.lr, "l2": self.l2, "dropout": self.dropout,
                    "input_blur": self.input_blur, "dev_size": self.dev_size}
        if self.batch_size is not None:  # None: full batch
            settings["batch_size"] = self.batch_size
        if (self.epochs is None) != (self.iterations is None):
            settings["length"] = self.epochs or self.iterations
        problems = [RULES[name].problem(value) for name, value in settings.items()]
        problems += [RULES["augment"].problem(a) for a in self.augment]
        problems += [RULES["hidden"].problem(width, "each hidden layer's width") for width in self.hidden]
        if (self.epochs is None) == (self.iterations is None):
            problems.append("give either epochs or iterations")
        messages = list(dict.fromkeys(p for p in problems if p))  # each once, in order
        if messages:
            raise RecipeError("; ".join(messages))

    def describe(self) -> str:
        """The recipe in one line, e.g. '784-128-10 relu · Adam lr 0.002 · batch 128 · 2 epochs'."""
        dense = "-".join(str(w) for w in (*self.hidden, 10))
        layers = (f"conv {', '.join(f'{f}x{k}' for f, k in self.conv)}, dense {dense}" if self.conv
                  else f"784-{dense}")
        batch = "full batch" if self.batch_size is None else f"batch {self.batch_size}"
        length = _count(self.epochs, "epoch") if self.epochs else _count(self.iterations, "iteration")
        extras = [f"{self.schedule} schedule" if self.schedule != "constant" else "",
                  f"L2 {self.l2:g}" if self.l2 else "", f"dropout {self.dropout:g}" if self.dropout else "",
                  "augmented" if self.augment else "", f"{self.per_class} per digit" if self.per_class else ""]
        return " · ".join([f"{layers} {self.activation}", f"{OPTIMIZER_NAMES[self.optimizer]} lr {self.lr:g}",
                           batch, length] + [e for e in extras if e])

    def to_json(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data):
        known = {f.name for f in dataclasses.fields(cls)}
        data = {k: v for k, v in data.items() if k in known}
        for key in ("hidden", "augment"):
            if key in data:
                data[key] = tuple(data[key])
        if "conv" in data:
            data["conv"] = tuple(tuple(pair) for pair in data["conv"])
        return cls(**data)


def _count(n, word):
    return f"{n} {word}{'' if n == 1 else 's'}"


def parse_widths(text: str) -> tuple[int, ...]:
    """Hidden layer widths as typed: '256, 128' -> (256, 128); '' -> () (no
    hidden layer: a linear model).  RecipeError with a readable message."""
    try:
        return tuple(int(part) for part in text.replace(",", " ").split())
    except ValueError:
        raise RecipeError("hidden layers: write whole numbers separated by commas, e.g. 256, 128") from None


def parse_conv(text: str) -> tuple[tuple[int, int], ...]:
    """Conv blocks as typed: '16x5, 32x3' -> ((16, 5), (32, 3)); '' or 'none' -> ()."""
    if text.strip().lower() == "none":
        return ()
    blocks = []
    for block in filter(None, (part.strip().lower() for part in text.split(","))):
        filters, x, kernel = block.partition("x")
        if not (x and filters.strip().isdigit() and kernel.strip().isdigit()):
            raise RecipeError("conv blocks: write FILTERSxKERNEL separated by commas, e.g. 16x5, 32x3")
        blocks.append((int(filters), int(kernel)))
    return tuple(blocks)


PRESETS = {
    # The original notebook, exactly: 784-10-10, uniform init, full-batch
    # gradient descent, alpha = 0.10, 500 iterations, 1000 dev images.
    "seed": TrainConfig(hidden=(10,), init="uniform", optimizer="gd", lr=0.10, batch_size=None,
                        epochs=None, iterations=500, dev_size=1000, eval_every=10),
    # A good model in seconds, for a class.
    "fast": TrainConfig(hidden=(128,), optimizer="adam", lr=0.002, batch_size=128, epochs=2,
                        dev_size=5000, eval_every=100),
    # The shipped model (models/default.npz): a small CNN, 30 epochs.
    # Elastic distortions are left out: two runs with them (15 and 20 epochs)
    # read 96.3% and 96.6% of the real drawings against this recipe's 97.4%.
    "shipped": TrainConfig(hidden=(128,), conv=((16, 5), (32, 3)), optimizer="adam", lr=0.002,
                           schedule="cosine", batch_size=128, epochs=30, dropout=0.25,
                           augment=("shift", "rotate", "scale", "shear", "thickness"), dev_size=5000,
                           input_blur=0.7),
}
# The Train page's Default: the shipped model's network and augmentation in
# 10 epochs, so that a class sees it finish in under 2 minutes (6 epochs read
# fewer drawings: README, "Reading real drawings: what was tried").  The one-cycle
# schedule's warm-up lets the rate peak twice as high, which reaches further
# in so few epochs than cosine does in 8 (README, "Figures").  A flag on a
# quarter of the 1s and a bar across some 7s read 0.5 and 1.3 points more of
# the real drawings over two seeds, for 0.03-0.11 points of MNIST (README,
# "Reading real drawings: what was tried").
PRESETS["default"] = dataclasses.replace(PRESETS["shipped"], epochs=10, schedule="onecycle", lr=0.004,
                                         augment=PRESETS["shipped"].augment + ("flag", "cross"))


@dataclass
class Progress:
    """What one training step reports."""

    step: int                      # steps done, 1-based
    total_steps: int
    epoch: float                   # epochs done, fractional
    loss: float                    # on this step's batch
    train_accuracy: float          # running, over the current epoch's batches
    dev_accuracy: float | None     # set on the steps where the dev set is measured
    learning_rate: float
    seconds: float                 # training time so far, pauses excluded
    samples_per_second: float

    @property
    def done(self):
        return self.step >= self.total_steps


def steps_per_epoch(config: TrainConfig, n_train: int) -> int:
    return 1 if config.batch_size is None else math.ceil(n_train / config.batch_size)


def total_steps(config: TrainConfig, n_train: int) -> int:
    if config.iterations is not None:
        return config.iterations
    assert config.epochs is not None, "check(): a recipe gives epochs or iterations"
    return config.epochs * steps_per_epoch(config, n_train)


def batches(config, images, labels, rng):
    """The (X, labels) of every training step, in order: a fresh shuffle at
    the start of each epoch (mini-batches), and the batch's images freshly
    distorted when the recipe augments them (made when the step asks for
    their columns: see DistortedBatch)."""
    n = len(labels)
    full_batch = config.batch_size is None
    batch_size = n if full_batch else min(config.batch_size, n)
    per_epoch = steps_per_epoch(config, n)
    # Full batch: convert every image once, to the contiguous (784, N) matrix
    # BLAS multiplies fastest.  Mini-batches convert only their own images,
    # so that a paused run does not hold a float copy of the whole set.
    everything = as_columns(images) if full_batch and not config.augment else None
    if everything is not None:  # the same every step: the second half's worker gets it once
        everything.flags.writeable = False
    pixels_together = not config.conv  # for a dense first layer (as_columns); im2col reads the usual layout
    order = np.arange(n)
    for step in range(total_steps(config, n)):
        in_epoch = step % per_epoch
        if in_epoch == 0 and not full_batch:
            order = rng.permutation(n)
        idx = order[in_epoch * batch_size:(in_epoch + 1) * batch_size]
        if config.augment:
            drawn = distortions(images[idx], rng, config.augment, labels[idx])
            yield DistortedBatch(drawn, pixels_together), labels[idx]
        else:
            yield (everything if full_batch else as_columns(images[idx], pixels_together)), labels[idx]


def train_steps(net, config, train_images, train_labels, dev_images=None, dev_labels=None):
    """Train `net` on uint8 images (N, 28, 28) and int labels, one step per
    `next()`, yielding a Progress after each.

    Raises TrainingDiverged (after restoring the last good weights) when the
    loss becomes NaN, infinite or absurdly large.
    """
    config.check()
    n = len(train_labels)
    if n == 0:
        raise ValueError("no training images")
    rng = np.random.default_rng([config.seed, 1])  # the network's own rng initialised it
    optimizer = OPTIMIZERS[config.optimizer](net.params.size)
    last_good = net.params.copy()
    batch_size = n if config.batch_size is None else min(config.batch_size, n)
    per_epoch = steps_per_epoch(config, n)
    total = total_steps(config, n)
    steps = batches(config, train_images, train_labels, rng)
    has_dev = dev_labels is not None and len(dev_labels) > 0

    seconds = 0.0
    seen = correct = 0
    try:
        for step in range(total):
            start = time.perf_counter()
            if step % per_epoch == 0:
                seen = correct = 0
            X, labels = next(steps)

            loss, batch_correct = net.gradient(X, labels, config.l2)
            if not math.isfinite(loss) or loss > DIVERGED_LOSS:
                net.params[...] = last_good
                lr = scheduled_lr(config.lr, config.schedule, step / total)
                raise TrainingDiverged(
                    f"training diverged at step {step + 1}: the loss became {loss:.3g}. "
                    f"The learning rate ({lr:g}) is probably too high; try {lr / 10:g}. "
                    "The network keeps the weights of the last good step.")
            np.copyto(last_good, net.params)
            lr = scheduled_lr(config.lr, config.schedule, step / total)
            optimizer.step(net.params, net.grads, lr)

            seen += len(labels)
            correct += batch_correct
            done = step + 1
            evaluate = has_dev and (done == total or (done % config.eval_every == 0 if config.eval_every
                                                      else done % per_epoch == 0))
            dev_accuracy = None
            if evaluate:  # on one BLAS thread, as training: an idle OpenBLAS thread spins on a core
                with blas_threads().limit(limits=1, user_api="blas"):  # for a while (README, "Speed")
                    dev_accuracy = net.accuracy(dev_images, dev_labels)
            seconds += time.perf_counter() - start
            yield Progress(step=done, total_steps=total, epoch=done / per_epoch, loss=loss,
                           train_accuracy=correct / seen, dev_accuracy=dev_accuracy, learning_rate=lr,
                           seconds=seconds, samples_per_second=done * batch_size / seconds if seconds else 0.0)
    finally:
        net.done_training()  # its shared memory, when it trained in halves


def train_to_end(net, config, train_images, train_labels, dev_images=None, dev_labels=None, on_progress=None):
    """Run every step; returns the list of Progress events."""
    history = []
    for progress in train_steps(net, config, train_images, train_labels, dev_images, dev_labels):
        history.append(progress)
        if on_progress:
            on_progress(progress)
    return history


def new_network(config: TrainConfig) -> Network:
    config.check()
    return Network(config.architecture(), seed=config.seed)


@dataclass(frozen=True)
class TrainingData:
    """The images a run learns from (train), watches (dev) and is finally
    judged on (test: MNIST's official test set, never trained on)."""

    train: object
    dev: object
    test: object | None
    source: str


def load_training_data(config, data="mnist", progress=None, log=None):
    """MNIST (obtained on first use) or a Kaggle-format CSV, split into
    train and dev as the config says."""
    if data == "mnist":
        mnist = fetch_mnist(progress=progress, log=log)
        return split_for_training(config, mnist.train, mnist.test, f"MNIST ({mnist.source})")
    return split_for_training(config, load_csv(data))


def training_size(config: TrainConfig, n_labelled: int) -> int:
    """How many of n_labelled digits a recipe trains on: those outside the
    dev set, or its images per digit."""
    n_train = max(0, n_labelled - config.dev_size)
    return min(n_train, 10 * config.per_class) if config.per_class else n_train


def split_for_training(config, labelled, test=None, source=""):
    """TrainingData from digits already in memory: the config's dev/train
    split and per-digit subset.  `labelled` is only read, so every session
    of the app can share one MNIST."""
    dev, train = split_dev(labelled, config.dev_size, config.seed)
    if config.per_class:
        train = per_digit_subset(train, config.per_class, config.seed)
    return TrainingData(train=train, dev=dev, test=test, source=source or labelled.source)


def latest_dev_accuracy(history: list[Progress]) -> float | None:
    """The latest dev accuracy measured in a run's history, or None."""
    return next((p.dev_accuracy for p in reversed(history) if p.dev_accuracy is not None), None)


def evaluate_run(net, data, history):
    """Final accuracies of a finished run (None where there is no such set)."""
    last_dev = latest_dev_accuracy(history)
    return {
        "train_accuracy": net.accuracy(data.train.images, data.train.labels),
        "dev_accuracy": last_dev,
        "test_accuracy": net.accuracy(data.test.images, data.test.labels) if data.test is not None else None,
    }


def run_metadata(config, data, history, result):
    """What a model file records about the run that made it."""
    return {
        "config": config.to_json(),
        "data": {"source": data.source, "train_size": len(data.train), "dev_size": len(data.dev),
                 "test_size": len(data.test) if data.test is not None else 0},
        "metrics": result,
        "history": [dataclasses.asdict(p) for p in history if p.dev_accuracy is not None],
    }
