"""The rules of a training recipe, in one table: each setting's name, its
choices or bounds, and what it does to learning.

TrainConfig.check, build_layers, the command line's choices and the Train
page's widgets all read this table, so a limit changes in one place.
"""

from dataclasses import dataclass

from .activations import ACTIVATIONS
from .augment import AUGMENTATIONS
from .errors import UserError
from .optimizers import OPTIMIZERS, SCHEDULES

INITS = ("he", "xavier", "uniform")
BATCH_SIZES = (1, 8, 16, 32, 64, 128, 256, 512, 1024, "full")  # the Train page's steps; any 1..MAX_BATCH runs


class RecipeError(UserError):
    """A recipe that cannot run; str(e) says which settings to change."""


@dataclass(frozen=True)
class Rule:
    """One setting: a choice among `choices`, or a number from `low` to `high`
    (`low` itself excluded when `above_low`)."""

    label: str
    help: str
    choices: tuple = ()
    low: float | None = None
    high: float | None = None
    above_low: bool = False

    def problem(self, value, name: str | None = None) -> str | None:
        """What is wrong with `value` for this setting (called `name` in the
        message; by default its label), or None."""
        name = name or self.label.lower()
        if self.choices:
            return None if value in self.choices else f"{name} must be one of {', '.join(map(str, self.choices))}"
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return f"{name} must be a number"
        assert self.low is not None and self.high is not None, "a rule has choices or bounds"
        too_low = value <= self.low if self.above_low else value < self.low
        if too_low or value > self.high:
            opening = "(" if self.above_low else "from "
            closing = "]" if self.above_low else ""
            return f"{name} must be {opening}{self.low:g}{', ' if self.above_low else ' to '}{self.high:g}{closing}"
        return None


RULES = {
    "hidden": Rule(
        "Hidden layers", "Widths of the hidden layers, e.g. 256, 128. More units can learn more patterns but train "
        "slower; leave it empty for no hidden layer at all (a linear model, about 92%).", low=1, high=4096),
    "filters": Rule(
        "Conv blocks (optional)", "Convolution + 2x2 pooling blocks as FILTERSxKERNEL, e.g. 16x5, 32x3. They find "
        "strokes anywhere in the image and read drawings better, but train many times slower here.", low=1, high=256),
    "pool": Rule("Max-pool size", "The side of the squares a max-pool layer keeps the largest value of.",
                 low=1, high=4),
    "activation": Rule(
        "Activation", "The bend after each hidden unit. ReLU learns fastest; sigmoid and tanh flatten out "
        "(saturate) and learn slower.", choices=tuple(ACTIVATIONS)),
    "init": Rule(
        "Initialisation", "The random starting weights. He suits ReLU, Xavier suits tanh and sigmoid; 'uniform' is "
        "the seed notebook's rand() - 0.5, far too large for wide layers.", choices=INITS),
    "dropout": Rule(
        "Dropout", "Switches off this share of hidden units at random in each step, so no unit can rely on "
        "another: less overfitting, slower learning.", low=0.0, high=0.9),
    "optimizer": Rule(
        "Optimiser", "How a gradient becomes a step. Gradient descent steps straight downhill; momentum builds "
        "up speed along steady slopes; Adam also scales each weight's step, so it forgives a rough "
        "learning rate.", choices=tuple(OPTIMIZERS)),
    "lr": Rule(
        "Learning rate", "The size of each step. Too small and learning crawls; too large and the loss jumps about "
        "or blows up. Adam likes about 0.001, gradient descent about 0.1.", low=0.0, high=10.0, above_low=True),
    "schedule": Rule(
        "Schedule", "How the learning rate changes during training: constant; step (divided by 10 at half "
        "and at three quarters); cosine (glides down to 0); onecycle (climbs to the rate in the first fifth, then "
        "glides down: reaches as far in fewer epochs). Smaller steps at the end settle deeper.",
        choices=SCHEDULES),
    "l2": Rule(
        "L2 weight decay", "Pulls every weight towards zero. A little fights overfitting a small training set; "
        "too much and the network cannot learn.", low=0.0, high=0.99),
    "batch_size": Rule(
        "Batch size", "Images per step. Small batches take many quick, noisy steps; 'full' takes one exact but "
        "slow step per epoch over every image (the seed notebook).", low=1, high=100_000),
    "length": Rule(
        "Number of epochs or iterations", "Longer training fits the training images better; watch the dev "
        "accuracy to see when more stops helping, or starts hurting (overfitting).", low=1, high=1_000_000),
    "augment": Rule(
        "Augmentation", "Trains on randomly shifted, rotated, rescaled, thicker or thinner copies of the digits (and "
        "1s with a flag, 7s with a bar, 9s with a tail turned left, as many hands write them; 'pen' redraws digits "
        "along their centre line with a round pen, as a canvas draws): "
        "learns slower, but reads hand-drawn digits better.", choices=AUGMENTATIONS),
    "per_class": Rule(
        "Images per digit (0 = all)", "Train on only this many images of each digit. A few hundred learn in a "
        "second or two but generalise worse: compare train and dev accuracy.", low=0, high=10_000),
    "dev_size": Rule(
        "Dev images", "Images held out of training to measure progress honestly: the network never learns "
        "from them.", low=0, high=20_000),
    "seed": Rule(
        "Random seed", "Fixes the starting weights, the dev split and the order of the batches: the same seed and "
        "settings train the same network; another seed shows how much luck is involved.", low=0, high=2**31 - 1),
    "input_blur": Rule("Input blur", "Pixels of blur for drawings this model reads (not MNIST).", low=0.0, high=3.0),
}
