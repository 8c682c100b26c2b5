"""Learnable stand-ins for MNIST, shared by the tests that train."""

import numpy as np

from network.digits import Digits


def toy_images(n=600, seed=0, noise=40):
    """(images, labels): each class is a fixed random 28x28 pattern plus
    noise, as uint8 images with int64 labels."""
    rng = np.random.default_rng(seed)
    prototypes = rng.integers(0, 256, (10, 28, 28))
    labels = np.arange(n) % 10
    images = prototypes[labels] + rng.normal(0, noise, (n, 28, 28))
    return np.clip(images, 0, 255).astype(np.uint8), labels.astype(np.int64)


def toy_digits(n=600, seed=0, noise=40):
    """The same toy images as Digits."""
    return Digits(*toy_images(n, seed, noise), f"toy digits (seed {seed})")
