"""Does a drawing look like any digit at all?

A network trained on digits answers every drawing with a digit: a letter A
is "4, 99% sure". Its confidence cannot tell, because softmax only compares
the ten digits with each other. What tells is how far the drawing is from
every digit anyone wrote: the distance, in pixels, from the drawing (as the
network sees it: cropped, scaled, centred, strokes evened out) to the
nearest of 10,000 MNIST training digits put through the very same
preprocessing. That set of digits is the *atlas* (models/digit-atlas.npz).

    d(x) = min over atlas digits a of ||x - a||      (x, a: 784 pixels in [0, 1])

A drawing with d(x) above the atlas's `threshold` does not look like a
digit. The threshold is calibrated on real digits drawn on a canvas: the
distance 99% of them stay under. scripts/novelty_figures.py builds the atlas,
calibrates it, and measures what it catches (letters, doodles) and how often
it wrongly flags a real digit; it also measures the alternatives tried and
dropped (the network's confidence; the Mahalanobis distance of its last
hidden layer's features to per-digit Gaussians, which let most doodles pass).

The atlas reads the drawing, not the network, so every model gets the same
check, the shipped ones, those trained on the Train page and uploaded ones.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .preprocess import canvas_to_mnist
from .shapes import PIXELS, SIDE

ATLAS_PATH = Path(__file__).resolve().parent.parent / "models" / "digit-atlas.npz"
ATLAS_SIZE = 10_000        # MNIST training digits in the atlas (5,000 flagged more real digits)
QUANTILE = 0.99            # share of real digits the threshold lets through
MAX_ATLAS_SIZE = 100_000   # what a (damaged) atlas file may claim to hold


@dataclass(frozen=True)
class Atlas:
    """Digits as drawings come out of the preprocessing: (N, 784) float32 in
    [0, 1]; and the distance above which a drawing is not a digit."""

    digits: np.ndarray
    threshold: float
    norms: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        # ||x - a||^2 = ||x||^2 - 2 x.a + ||a||^2: the last term, once.
        object.__setattr__(self, "norms", np.einsum("ij,ij->i", self.digits, self.digits))


def as_drawn(images) -> np.ndarray:
    """MNIST images (m, 28, 28) uint8 as a drawing of them would reach the
    network: through canvas_to_mnist (without blur), (m, 784) float32."""
    out = np.zeros((len(images), PIXELS), dtype=np.float32)
    for i, image in enumerate(images):
        drawing = canvas_to_mnist(image)
        if drawing.pixels is not None:
            out[i] = drawing.pixels.ravel()
    return out


def distances(atlas: Atlas, pixels, batch_size=500) -> np.ndarray:
    """d(x) for drawings (m, 28, 28) or one (28, 28), pixels in [0, 1]
    (a batch at a time: each compares with the whole atlas)."""
    x = np.asarray(pixels, dtype=np.float32).reshape(-1, PIXELS)
    out = np.empty(len(x), dtype=np.float32)
    for start in range(0, len(x), batch_size):
        part = x[start:start + batch_size]
        squared = np.einsum("ij,ij->i", part, part)[:, None] - 2 * (part @ atlas.digits.T) + atlas.norms[None, :]
        out[start:start + batch_size] = np.sqrt(np.maximum(squared.min(axis=1), 0))
    return out


def looks_like_a_digit(atlas: Atlas, pixels) -> bool:
    """Whether one drawing (28, 28), prepared without blur, is near enough
    to some digit of the atlas."""
    return bool(distances(atlas, pixels)[0] <= atlas.threshold)


def drawing_looks_like_a_digit(atlas: Atlas, drawing) -> bool:
    """The same for a drawing canvas_to_mnist prepared (with any blur a
    model asks for): judged on its pixels before the blur, as the atlas's
    digits are; True when no digit is drawn at all."""
    return drawing.sharp is None or looks_like_a_digit(atlas, drawing.sharp)


def calibrated(digits: np.ndarray, real_digits) -> Atlas:
    """An atlas of `digits` (N, 784) whose threshold lets QUANTILE of
    `real_digits` (drawings of digits, (m, 28, 28)) through."""
    unfitted = Atlas(digits, np.inf)
    return Atlas(digits, float(np.quantile(distances(unfitted, real_digits), QUANTILE)))


def save_atlas(atlas: Atlas, path=ATLAS_PATH) -> Path:
    """Write the atlas as uint8 pixels (a quarter of float32's size; the
    distances move by under 0.2%) and its threshold; no pickle."""
    path = Path(path)
    np.savez_compressed(path, digits=np.round(atlas.digits * 255).astype(np.uint8).reshape(-1, SIDE, SIDE),
                        threshold=np.float64(atlas.threshold))
    return path


class AtlasError(ValueError):
    """An atlas file that cannot be used."""


def load_atlas(path=ATLAS_PATH) -> Atlas | None:
    """The atlas at path, or None when there is none (the app then reads
    drawings without the check). AtlasError for a damaged file."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as file:
            digits, threshold = file["digits"], file["threshold"]
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise AtlasError(f"{path.name}: damaged digit atlas ({error})") from None
    if (digits.dtype != np.uint8 or digits.ndim != 3 or digits.shape[1:] != (SIDE, SIDE)
            or not 0 < len(digits) <= MAX_ATLAS_SIZE):
        raise AtlasError(f"{path.name}: digits are {digits.dtype} {digits.shape}, expected uint8 (N, 28, 28)")
    if threshold.shape != () or not np.isfinite(threshold) or threshold <= 0:
        raise AtlasError(f"{path.name}: threshold {threshold!r} is not a positive number")
    return Atlas(digits.reshape(len(digits), PIXELS).astype(np.float32) / np.float32(255), float(threshold))
