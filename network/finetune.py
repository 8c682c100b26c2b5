"""Fine-tuning: a trained model learns further from people's drawings.

It starts from the model's weights (the file it came from is never
written) and trains a little more, at a small learning rate, on batches
that mix MNIST with the drawings: MNIST so that it does not forget what
it knew, the drawings oversampled so that a few hundred of them count
against 55,000 MNIST digits.  Both go through the shipped recipe's
augmentation, so the network learns the drawings' shapes, not their
exact pixels.

Honesty: the drawings are split by writer (drawing_sets.py), and the
network is measured before and after on (a) the held-out writers'
drawings, the gain, and (b) MNIST's test set, any forgetting.  With
fewer than MIN_HELD_OUT held-out drawings no gain is claimed.
"""

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .digits import MNIST, Digits
from .drawing_sets import MIN_HELD_OUT, DrawingSet, WriterSplit, split_by_writer
from .errors import DataError
from .model import Network
from .training import PRESETS, TrainConfig, train_steps

MIN_TRAIN_DRAWINGS = 10


@dataclass(frozen=True)
class FinetuneRecipe:
    """How long and how hard a model learns from drawings."""

    steps: int = 300              # mini-batches; fewer if `seconds` runs out first
    batch_size: int = 128
    drawing_share: float = 0.5    # of every batch, on average; the rest is MNIST
    lr: float = 0.0003            # Adam; a tenth of the shipped recipe's: small steps keep what it knew
    seconds: float | None = None  # a time budget: stop after this much training
    eval_every: int = 25          # steps between measurements of the two curves
    dev_size: int = 1000          # MNIST dev images, held out of training, for the live curve
    held_out_share: float = 0.3   # of the drawings, whole writers, to judge on
    seed: int = 0

    def images_processed(self, drawings: int, mnist_test: int) -> int:
        """Images pushed through forward and backward, for the app's training
        budget (budgets.check_run_budget): the training batches, and the
        measurements (forward only, a third of the cost) before, during and
        after, with at most `drawings` held out."""
        measured = 2 * (drawings + mnist_test) + self.steps // self.eval_every * (self.dev_size + drawings)
        return self.steps * self.batch_size + measured // 3

    def train_config(self) -> TrainConfig:
        """The engine's recipe for the training steps (the network is already built)."""
        return dataclasses.replace(
            PRESETS["default"], optimizer="adam", lr=self.lr, schedule="constant", batch_size=self.batch_size,
            epochs=1, iterations=None, eval_every=self.eval_every, seed=self.seed, dev_size=self.dev_size)


@dataclass
class FinetuneProgress:
    step: int
    total_steps: int
    seconds: float
    loss: float
    held_out_accuracy: float | None   # set on the steps where both curves are measured
    dev_accuracy: float | None        # MNIST dev


@dataclass(frozen=True)
class Measure:
    held_out: float | None     # accuracy on the held-out drawings (None: there are none)
    mnist_test: float
    held_out_predicted: np.ndarray


class Finetuning:
    """One fine-tuning run: the split, the mixed training set, the figures before and after."""

    def __init__(self, net: Network, drawings: DrawingSet, mnist: MNIST,
                 recipe: FinetuneRecipe | None = None):
        recipe = recipe or FinetuneRecipe()
        self.net, self.recipe, self.mnist = net, recipe, mnist
        self.split: WriterSplit = split_by_writer(drawings, recipe.held_out_share, recipe.seed)
        if len(self.split.train) < MIN_TRAIN_DRAWINGS:
            raise DataError(f"only {len(self.split.train)} drawings to learn from after holding out "
                            f"{len(self.split.held_out)}; fine-tuning needs at least {MIN_TRAIN_DRAWINGS}")
        # MNIST's dev split, by index: no copy of the 55,000 training digits per run.
        order = np.random.default_rng(recipe.seed).permutation(len(mnist.train))
        self.dev = mnist.train.subset(order[:recipe.dev_size])
        self.train: Digits | None = mixed(mnist.train, order[recipe.dev_size:], self.split.train.digits, recipe)
        self.before = self.measure()
        self.after: Measure | None = None

    def measure(self) -> Measure:
        held = self.split.held_out.digits
        predicted = self.net.predict(held.images) if len(held) else np.zeros(0, np.int64)
        return Measure(held_out=float(np.mean(predicted == held.labels)) if len(held) else None,
                       mnist_test=self.net.accuracy(self.mnist.test.images, self.mnist.test.labels),
                       held_out_predicted=predicted)

    def steps(self) -> Iterator[FinetuneProgress]:
        """Train one batch per next(); stops early when the time budget is spent, then measures `after`."""
        held = self.split.held_out.digits
        config = self.recipe.train_config()
        assert self.train is not None, "steps() runs once"
        for p in train_steps(self.net, config, self.train.images, self.train.labels,
                             self.dev.images, self.dev.labels):
            measured = p.dev_accuracy is not None
            out_of_time = self.recipe.seconds is not None and p.seconds >= self.recipe.seconds
            if out_of_time and not measured:
                p.dev_accuracy, measured = self.net.accuracy(self.dev.images, self.dev.labels), True
            yield FinetuneProgress(
                step=p.step, total_steps=p.total_steps, seconds=p.seconds, loss=p.loss, dev_accuracy=p.dev_accuracy,
                held_out_accuracy=self.net.accuracy(held.images, held.labels) if measured and len(held) else None)
            if out_of_time:
                break
        self.after = self.measure()
        self.train = None   # 38,400 images a finished run no longer needs

    def run(self, on_progress=None) -> dict:
        """Every step, then the report."""
        for progress in self.steps():
            if on_progress:
                on_progress(progress)
        return self.report()

    def now_right(self) -> np.ndarray:
        """Indices of the held-out drawings read wrong before and right after."""
        assert self.after is not None, "after steps()"
        labels = self.split.held_out.digits.labels
        return np.flatnonzero((self.before.held_out_predicted != labels) & (self.after.held_out_predicted == labels))

    def report(self) -> dict:
        """Before and after, as plain numbers; the held-out figures are None
        (no gain claimed) with fewer than MIN_HELD_OUT held-out drawings."""
        assert self.after is not None, "after steps()"
        needed = self.split.shortfall()
        labels = self.split.held_out.digits.labels
        now_wrong = (self.before.held_out_predicted == labels) & (self.after.held_out_predicted != labels)
        return {
            "held_out_before": None if needed else self.before.held_out,
            "held_out_after": None if needed else self.after.held_out,
            "held_out_count": len(self.split.held_out),
            "held_out_needed": needed,
            "mnist_test_before": self.before.mnist_test,
            "mnist_test_after": self.after.mnist_test,
            "train_drawings": len(self.split.train),
            "now_right": len(self.now_right()),
            "now_wrong": int(now_wrong.sum()),
            "split": self.split.how,
        }

    def verdict(self) -> str:
        """The report in a sentence, refusing to claim a gain from too few held-out drawings."""
        report = self.report()
        forgetting = (f"MNIST test {report['mnist_test_before']:.2%} -> {report['mnist_test_after']:.2%}")
        if report["held_out_needed"]:
            return (f"Only {report['held_out_count']} held-out drawings: no gain can be claimed from fewer than "
                    f"{MIN_HELD_OUT}. {report['held_out_needed']} more drawings by other writers are needed. "
                    f"{forgetting}.")
        return (f"Held-out drawings ({report['held_out_count']}, {self.split.how}): "
                f"{report['held_out_before']:.2%} -> {report['held_out_after']:.2%}; {forgetting}.")

    def metadata(self, source_model: str, drawings_source: str) -> dict:
        """What the fine-tuned model's file records: where it came from and both figures."""
        report = self.report()
        return {"config": self.recipe.train_config().to_json(),
                "finetune": {"from": source_model, "drawings": drawings_source, **dataclasses.asdict(self.recipe),
                             **report},
                "data": {"source": f"MNIST + {drawings_source}",
                         "train_size": self.recipe.steps * self.recipe.batch_size,
                         "dev_size": len(self.dev), "test_size": len(self.mnist.test)},
                "metrics": {"test_accuracy": report["mnist_test_after"], "drawings_accuracy": report["held_out_after"],
                            "dev_accuracy": None, "train_accuracy": None}}


def mixed(mnist: Digits, usable: np.ndarray, drawings: Digits, recipe: FinetuneRecipe) -> Digits:
    """One pass of `steps` batches: MNIST digits (from the indices `usable`)
    and the drawings, repeated (oversampled) to make `drawing_share` of the
    images; training shuffles them."""
    rng = np.random.default_rng([recipe.seed, 2])
    total = recipe.steps * recipe.batch_size
    n_drawings = round(total * recipe.drawing_share)
    from_drawings = np.resize(rng.permutation(len(drawings)), n_drawings)   # each drawing equally often
    from_mnist = rng.choice(usable, total - n_drawings, replace=total - n_drawings > len(usable))
    return Digits(np.concatenate([mnist.images[from_mnist], drawings.images[from_drawings]]),
                  np.concatenate([mnist.labels[from_mnist], drawings.labels[from_drawings]]),
                  f"MNIST mixed with {len(drawings)} drawings")


__all__ = ["Finetuning", "FinetuneRecipe", "FinetuneProgress", "MIN_HELD_OUT"]
