"""Turn a drawing into the 28x28 image an MNIST-trained network expects.

MNIST digits were not just shrunk: each was cropped to its ink, scaled so its
longer side is 20 px (keeping the aspect ratio, anti-aliased) and placed in a
28x28 frame with its centre of mass at the centre. A network trained on them
reads a canvas drawing well only after the same treatment; shrinking the whole
canvas instead gives a small, off-centre digit it has never seen.

One more difference is the pen: MNIST's strokes are about a tenth of the
digit's size, a canvas brush can be anything from a hairline to a marker. So
before the final scaling the strokes are thinned or thickened to MNIST's
width, and a small mark well away from the digit (a tap of the pen beside
it) is dropped before cropping, or it would shrink and shift the digit.
scripts/eval_real_drawings.py measures what each step is worth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from .images import ImageError
from .images import load_image as load_image  # where the command line and the scripts have always found it

MNIST_SIZE = 28
DIGIT_BOX = 20  # MNIST's longer side of the digit, in pixels

# A pixel is ink for cropping and counting when it is this bright (0..1);
# fainter pixels (anti-aliasing, JPEG noise) still count towards the image.
INK_LEVEL = 0.25
# Fewer ink pixels than this is a stray click, not a digit.
MIN_INK_PIXELS = 5
# Ink no longer than this many of its own stroke widths is a dot or a dab,
# unless it spans a good part of the canvas (a scribble is not empty).
# (Real digits measure 5 and more; a round dot 2.5, a square one 2.)
MIN_LENGTH_IN_WIDTHS = 3.0
DOT_MAX_EXTENT = 0.25
# An image with at least this share of fully transparent pixels has a
# transparent background (a canvas, however much of it is scribbled over).
TRANSPARENT_SHARE = 0.05

# A mark with less than this share of the ink, further from the largest
# connected piece than this share of that piece's size, is not the digit.
STRAY_MAX_INK = 0.15
STRAY_MIN_GAP = 0.10
# Connected pieces are found on a coarse copy of the ink, about this wide,
# so a thin gap in a stroke does not split it and the search stays fast.
COARSE_SIZE = 96

# Strokes are normalised on the digit scaled to this longer side: fine enough
# for fractions of MNIST's 2 px stroke, small enough to take well under 1 ms.
WORK_BOX = 4 * DIGIT_BOX
# MNIST's median stroke width in the 20 px box, as stroke_width() measures it.
MNIST_STROKE_WIDTH = 1.95


PreprocessError = ImageError  # the input cannot be read as an image (its older name)


@dataclass(frozen=True)
class MnistInput:
    """What the network gets, and how it got there.

    pixels: float32 (28, 28) in [0, 1], ink bright; None when `empty`.
    steps: ordered (title, uint8 2-D image) pairs to show the pipeline.
    empty: no digit was drawn (nothing, a speck or a dot).
    ink_fraction: share of the canvas covered by ink (a scribble is near 1).
    sharp: the pixels before any blur (what novelty.py compares with digits).
    """

    pixels: np.ndarray | None
    steps: list[tuple[str, np.ndarray]]
    empty: bool
    ink_fraction: float
    sharp: np.ndarray | None = None


def canvas_to_mnist(image, ink="auto", blur=0.0) -> MnistInput:
    """Crop, scale and centre a drawing the way MNIST's digits were prepared.

    `image` is a canvas's (H, W, 4) RGBA uint8 array, an (H, W, 3) RGB or
    (H, W) grayscale array, or a PIL image of any mode and size.  `ink` is
    "light" when the ink is known to be the bright part, else "auto".
    `blur` (pixels, Gaussian sigma) softens the result's edges the way
    MNIST's are soft; a model says how much it wants (its `input_blur`).
    """
    ink = ink_map(image, ink)
    steps = [("raw", to_uint8(ink))]
    is_ink = ink >= INK_LEVEL
    ink_fraction = float(is_ink.mean())
    if is_ink.sum() < MIN_INK_PIXELS:
        return MnistInput(None, steps, True, ink_fraction)

    ink, is_ink = drop_stray_marks(ink, is_ink)
    cropped = crop_to_ink(ink, is_ink)
    work = scale_longer_side(cropped, WORK_BOX)
    width = stroke_width(work)
    is_dot = (max(work.shape) < MIN_LENGTH_IN_WIDTHS * width
              and max(cropped.shape) < DOT_MAX_EXTENT * max(ink.shape))
    if is_dot:
        return MnistInput(None, steps, True, ink_fraction)

    scaled = scale_longer_side(normalise_stroke_width(work, width), DIGIT_BOX)
    sharp = centre_by_mass(scaled, MNIST_SIZE)
    centred = soften(sharp, blur) if blur else sharp
    steps += [("cropped", to_uint8(cropped)), ("scaled", to_uint8(scaled)),
              ("centred", to_uint8(centred))]
    return MnistInput(centred, steps, False, ink_fraction, sharp)


def soften(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of a square image, as G X G^T with G the 1-D kernel
    laid out as a matrix (the image's edge is background, so zero padding)."""
    offsets = np.arange(image.shape[0])[:, None] - np.arange(image.shape[0])[None, :]
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    kernel /= kernel[image.shape[0] // 2].sum()
    return np.clip(kernel @ image @ kernel.T, 0, 1).astype(np.float32)


def ink_map(image, ink="auto") -> np.ndarray:
    """Return the ink as float32 (H, W) in [0, 1]: 1 is ink, 0 background.

    ink="light" says the ink is the bright part (the Draw page's white on
    black canvas), so that even a scribble over the whole canvas, border
    included, is not taken for a light background; "auto" works it out.

    With a transparent background (a canvas without a fill) opacity is the
    ink, whatever colour was used. Otherwise the background is the usual
    level along the border and ink is what differs from it, so both white on
    black and black on white (paper, paint programs) come out bright. A
    bright image with nothing darker on it is a canvas filled with ink.
    """
    rgba = as_rgba(image)
    alpha = rgba[..., 3]
    if np.mean(alpha == 0) >= TRANSPARENT_SHARE:
        return alpha.astype(np.float32) / 255
    luma = Image.fromarray(np.ascontiguousarray(rgba[..., :3])).convert("L")
    gray = np.asarray(luma, dtype=np.float32) * (alpha / np.float32(255 * 255))
    background = 0.0 if ink == "light" else float(np.median(border(gray)))
    if background <= 0.5:
        strokes = gray - background
    elif gray.min() < background - INK_LEVEL:
        strokes = background - gray
    else:
        strokes = gray
    # Stretch faint ink (a pencil photo) to full strength, but not noise.
    return np.clip(strokes / max(strokes.max(), 2 * INK_LEVEL), 0, 1)


def as_rgba(image) -> np.ndarray:
    """Return any supported image as an (H, W, 4) uint8 RGBA array."""
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGBA"))
    array = np.asarray(image)
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    elif array.dtype.kind == "f":
        scale = 255 if array.size and np.nanmax(array) <= 1 else 1
        array = np.clip(np.nan_to_num(array) * scale, 0, 255).round().astype(np.uint8)
    elif array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim == 2:
        array = np.stack([array] * 3 + [np.full_like(array, 255)], axis=-1)
    elif array.ndim == 3 and array.shape[2] == 3:
        array = np.dstack([array, np.full(array.shape[:2], 255, np.uint8)])
    if array.ndim != 3 or array.shape[2] != 4 or 0 in array.shape:
        raise PreprocessError(f"expected an (H, W), (H, W, 3) or (H, W, 4) image, got shape {array.shape}")
    return array


def border(image: np.ndarray) -> np.ndarray:
    """The pixels along the four edges of a 2-D image."""
    return np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])


def drop_stray_marks(ink: np.ndarray, is_ink: np.ndarray):
    """Remove small marks far from the digit; return the new (ink, is_ink).

    The digit is the largest connected piece of ink and everything close to
    it or big (a 4 or a 5 drawn in two strokes keeps both); a speck or a dot
    on its own elsewhere on the canvas goes.
    """
    factor = max(1, -(-max(is_ink.shape) // COARSE_SIZE))
    coarse = block_any(is_ink, factor)
    pieces = connected_runs(coarse)
    if len(pieces) < 2:
        return ink, is_ink
    masses = [sum(stop - start for _, start, stop in runs) for runs in pieces]
    boxes = [runs_box(runs) for runs in pieces]
    main = int(np.argmax(masses))
    top, bottom, left, right = boxes[main]
    reach = STRAY_MIN_GAP * max(bottom - top, right - left)
    stray = np.zeros_like(coarse)
    for runs, mass, (t, b, lft, r) in zip(pieces, masses, boxes):
        gap = max(top - b, t - bottom, left - r, lft - right)
        if mass < STRAY_MAX_INK * sum(masses) and gap > reach:
            for row, start, stop in runs:
                stray[row, start:stop] = True
    if not stray.any():
        return ink, is_ink
    # Grow by a coarse cell so the mark's faint anti-aliased rim goes too.
    stray = neighbourhood_extreme(stray, np.maximum, square=True)
    keep = ~np.repeat(np.repeat(stray, factor, axis=0), factor, axis=1)[:ink.shape[0], :ink.shape[1]]
    return ink * keep, is_ink & keep


def block_any(mask: np.ndarray, factor: int) -> np.ndarray:
    """Shrink a boolean mask by `factor`: a cell is set if any pixel in it is."""
    height, width = mask.shape
    rows, cols = -(-height // factor), -(-width // factor)
    padded = np.zeros((rows * factor, cols * factor), dtype=bool)
    padded[:height, :width] = mask
    return np.asarray(padded.reshape(rows, factor, cols, factor).any(axis=(1, 3)))


def connected_runs(mask: np.ndarray) -> list:
    """The 8-connected pieces of a boolean mask, each a list of (row, start, stop) runs.

    Runs of set pixels in each row are joined (union-find) with the runs
    they touch in the row above: a few hundred runs instead of every pixel.
    """
    edges = np.diff(np.pad(mask.astype(np.int8), ((0, 0), (1, 1))), axis=1)
    rows, starts = np.nonzero(edges == 1)
    stops = np.nonzero(edges == -1)[1]
    runs = list(zip(rows.tolist(), starts.tolist(), stops.tolist()))
    parent = list(range(len(runs)))

    def root(run):
        while parent[run] != run:
            parent[run] = parent[parent[run]]
            run = parent[run]
        return run

    first_above = 0  # runs are in row order: the row above's runs precede ours
    for run, (row, start, stop) in enumerate(runs):
        while runs[first_above][0] < row - 1:
            first_above += 1
        for above in range(first_above, run):
            above_row, above_start, above_stop = runs[above]
            if above_row == row - 1 and above_start <= stop and above_stop >= start:
                a, b = root(run), root(above)  # touching, diagonals included
                parent[max(a, b)] = min(a, b)
    pieces: dict[int, list] = {}
    for run, row_start_stop in enumerate(runs):
        pieces.setdefault(root(run), []).append(row_start_stop)
    return list(pieces.values())


def runs_box(runs) -> tuple:
    """(top, bottom, left, right) of a piece, inclusive-exclusive like slices."""
    rows = [row for row, _, _ in runs]
    return min(rows), max(rows) + 1, min(s for _, s, _ in runs), max(e for _, _, e in runs)


def crop_to_ink(ink: np.ndarray, is_ink: np.ndarray) -> np.ndarray:
    """Cut the ink image down to the bounding box of its ink pixels."""
    rows = np.flatnonzero(is_ink.any(axis=1))
    cols = np.flatnonzero(is_ink.any(axis=0))
    return ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def scale_longer_side(image: np.ndarray, size: int) -> np.ndarray:
    """Resize so the longer side is `size` px, keeping the aspect ratio.

    Shrinking averages each output pixel's area (anti-aliased, like MNIST's
    scanner, and 5x faster than Lanczos); enlarging interpolates linearly.
    """
    height, width = image.shape
    factor = size / max(height, width)
    new_size = (max(1, round(width * factor)), max(1, round(height * factor)))
    resample = Image.Resampling.BOX if factor < 1 else Image.Resampling.BILINEAR
    resized = Image.fromarray(np.ascontiguousarray(image, dtype=np.float32)).resize(new_size, resample)
    return np.clip(np.asarray(resized), 0, 1)


def stroke_width(ink: np.ndarray) -> float:
    """Average stroke width in pixels: twice the ink's area over its outline.

    A stroke of length L and width w has area w L and an outline 2 L long.
    The outline is measured as the image's total variation, which counts a
    soft (anti-aliased) edge the same as a sharp one.
    """
    padded = np.pad(ink, 1)
    outline = np.abs(np.diff(padded, axis=0)).sum() + np.abs(np.diff(padded, axis=1)).sum()
    return float(2 * padded.sum() / max(outline, 1e-6))


def normalise_stroke_width(digit: np.ndarray, width: float) -> np.ndarray:
    """Thicken or thin strokes `width` px wide so that, scaled to DIGIT_BOX, they are MNIST-wide.

    `digit` is cropped to its ink. Growing strokes by r px on each side also
    grows the digit by 2 r, so r solves (w + 2 r) / (L + 2 r) = target / box.
    Thinning stops at a quarter of the width so thin parts of a digit survive.
    """
    longer = max(digit.shape)
    target = MNIST_STROKE_WIDTH / DIGIT_BOX
    radius = (target * longer - width) / (2 * (1 - target))
    radius = float(np.clip(radius, -width / 4, longer / 8))
    margin = int(np.ceil(abs(radius))) + 1
    grown = grey_morphology(np.pad(digit, margin), radius)
    return crop_to_ink(grown, grown >= INK_LEVEL)


def grey_morphology(image: np.ndarray, radius: float) -> np.ndarray:
    """Dilate (radius > 0) or erode (radius < 0) a grey image by |radius| px.

    Alternating 3x3 cross and square steps grow an octagon, close to the
    round pen; a fractional radius blends the last step in part.
    """
    steps = int(np.ceil(abs(radius)))
    extreme = np.maximum if radius > 0 else np.minimum
    before = after = image
    for step in range(steps):
        before = after
        after = neighbourhood_extreme(after, extreme, square=step % 2 == 1)
    fraction = abs(radius) - (steps - 1) if steps else 0.0
    return before + (after - before) * np.float32(fraction)


def neighbourhood_extreme(image: np.ndarray, extreme, square: bool) -> np.ndarray:
    """The max (or min) of each pixel's 3x3 cross or square neighbourhood."""
    height, width = image.shape
    padded = np.pad(image, 1, mode="edge")
    result = image.copy()
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if (dy or dx) and (square or not (dy and dx)):
                extreme(result, padded[1 + dy:1 + dy + height, 1 + dx:1 + dx + width], out=result)
    return result


def centre_by_mass(digit: np.ndarray, size: int) -> np.ndarray:
    """Place `digit` in a size x size frame with its centre of mass at the centre.

    The shift is rounded to whole pixels, as for MNIST, and limited so no ink
    falls off the frame.
    """
    height, width = digit.shape
    total = digit.sum()
    rows, cols = np.arange(height), np.arange(width)
    mass_row = (digit.sum(axis=1) @ rows) / total
    mass_col = (digit.sum(axis=0) @ cols) / total
    centre = size / 2  # where MNIST's centres of mass are, in pixel indices
    top = int(np.clip(round(centre - mass_row), 0, size - height))
    left = int(np.clip(round(centre - mass_col), 0, size - width))
    frame = np.zeros((size, size), dtype=np.float32)
    frame[top:top + height, left:left + width] = digit
    return frame


def to_uint8(image: np.ndarray) -> np.ndarray:
    """A [0, 1] float image as uint8 for display."""
    return (np.clip(image, 0, 1) * 255).round().astype(np.uint8)
