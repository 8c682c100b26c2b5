"""Random distortions of training images, so the network reads drawings.

MNIST digits are neatly centred, upright and written with a pen of one
width; digits drawn on a canvas are not.  Showing the network slightly
shifted, rotated, rescaled, slanted, wobbled and thicker or thinner copies
of each training image (new ones every time it sees it) teaches it that none
of those changes the digit.

Every geometric distortion is one map from output pixels to the input
positions they read, so a batch is warped by one bilinear interpolation
whatever the mix: an affine part (one 2x3 matrix per image, applied to all
pixels by one matrix product) plus an elastic part (a smooth random
displacement field, Simard et al. 2003, "Best practices for convolutional
neural networks applied to visual document analysis").

One distortion is not geometric and needs the labels: "flag" gives some of
the 1s the long flag many hands start a 1 with (MNIST's 1s are mostly bare
strokes, so a network trained on them reads a flagged 1 as a 7).
"""

from dataclasses import dataclass

import numpy as np

from .shapes import PIXELS, as_columns

AUGMENTATIONS = ("shift", "rotate", "scale", "shear", "elastic", "thickness", "flag", "cross", "hook", "pen")
GEOMETRIC = ("shift", "rotate", "scale", "shear", "elastic")

SIZE = 28
MAX_SHIFT = 2.5        # pixels
MAX_ROTATION = 15.0    # degrees
MAX_SCALE = 0.15       # +-15% size
MAX_SHEAR = 0.3        # x moves by up to 0.3 y: a slanted hand
# Elastic: a field of uniform(-1, 1) displacements, smoothed by a Gaussian of
# ELASTIC_SIGMA pixels (so neighbouring pixels move together, as a hand's
# wobble does) and scaled by ELASTIC_ALPHA: Simard's recipe, milder than his
# 34/4 because these digits also rotate, scale and shear.
ELASTIC_ALPHA = 8.0    # pixels, before smoothing
ELASTIC_SIGMA = 3.0    # pixels
# Thickness: this share of images gets a bolder pen (a max over each pixel's
# 4 neighbours), this share a finer one (a min over 2x2 blocks).
P_THICKER, P_THINNER = 0.3, 0.15
# Flag: this share of the 1s gets a straight stroke from the top of the
# digit, down to the left, as long as this share of the digit's height and
# this many degrees below the horizontal, drawn with the 1's own pen width.
# (Shorter, steeper flags, 0.2-0.5 of the height at 30-65 degrees, cost
# MNIST less but left the long flags of real hands read as 7: README,
# "Reading real drawings: what was tried"; flagging half the 1s, not a
# quarter, read more MNIST 7s as 1s.)
P_FLAG = 0.25
FLAG_LENGTH = (0.25, 0.6)
FLAG_ANGLE = (15.0, 60.0)
# Cross: this share of the 7s gets a short bar across its stem, about half
# way down, as long as this share of the digit's height, tilted up to this
# many degrees.
P_CROSS = 0.3
CROSS_LENGTH = (0.3, 0.55)
CROSS_TILT = 15.0
# Hook: this share of the 9s gets a tail that turns back to the left at the
# bottom of the stem (as in a handwritten "g"), as long as this share of the
# digit's height, rising this many degrees above the horizontal.
P_HOOK = 0.3
HOOK_LENGTH = (0.15, 0.4)
HOOK_ANGLE = (0.0, 45.0)
# Pen: this share of the images is redrawn as a canvas pen draws: thinned to
# its skeleton, then inked along it by a round pen of a random radius (a
# stroke about 2 r + 1 px wide; MNIST's are about 2 to 3).
P_PEN = 0.5
PEN_RADIUS = (0.6, 1.5)

_CENTRE = (SIZE - 1) / 2
_PADDED = SIZE + 3                   # a frame of zeros around each image (see warp)
# Every output pixel as a column (x - centre, y - centre, 1): the affine
# part of the warp is then one (2, 3) matrix times this.
_ROWS, _COLS = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
_GRID = np.stack([_COLS.ravel() - _CENTRE, _ROWS.ravel() - _CENTRE, np.ones(SIZE * SIZE, np.float32)])


def _gaussian_matrix(sigma, size=SIZE):
    """G with G @ F @ G.T = F blurred by a Gaussian of `sigma` pixels (each
    row sums to 1, so the blur neither grows nor shrinks a constant field)."""
    d = np.arange(size)[:, None] - np.arange(size)[None, :]
    G = np.exp(-0.5 * (d / sigma) ** 2)
    return (G / G.sum(axis=1, keepdims=True)).astype(np.float32)


_SMOOTH = _gaussian_matrix(ELASTIC_SIGMA)


def augment(images, rng, kinds=AUGMENTATIONS, labels=None):
    """A randomly distorted copy of a batch of uint8 images (m, 28, 28), as
    float32 in [0, 1].  `kinds` picks which distortions to use; "flag",
    "cross" and "hook" need the images' `labels`."""
    return distortions(images, rng, kinds, labels).apply()


@dataclass(frozen=True)
class Distortions:
    """A batch's distortions, drawn but not yet made pixel by pixel: the
    images with their added strokes, where each output pixel reads its
    input (the warp), and which images get a bolder or finer pen.  The warp
    and the pen are most of the work and are done image by image, so any
    part of a batch can be made anywhere (a training step's second half is
    made in the worker process that computes its gradient, second_half.py)
    with the same numbers as the whole batch at once."""

    images: np.ndarray               # (m, 28, 28) float32 in [0, 1], strokes added
    positions: np.ndarray | None     # (m, 2, 784) float32 (source_positions), or no warp
    pens: np.ndarray | None          # (m,) uniform draws picking the pen (_thickness), or none

    def apply(self, a=0, b=None):
        """Images a..b of the batch, distorted."""
        out = self.images[a:b]
        if self.positions is not None:
            out = warp(out, self.positions[a:b])
        if self.pens is not None:
            out = _thickness(out, self.pens[a:b])
        return out


def distortions(images, rng, kinds=AUGMENTATIONS, labels=None):
    """Draw the distortions of a batch (see augment) and add its strokes."""
    m = images.shape[0]
    out = np.multiply(images, np.float32(1 / 255), dtype=np.float32)  # one pass, the same numbers
    if "pen" in kinds:
        chosen = np.flatnonzero(rng.random(m) < P_PEN)
        if len(chosen):
            out[chosen] = redrawn(out[chosen], rng)
    # Strokes many hands add to one digit: (kind, the digit, its share, the stroke).
    for kind, digit, share, add_stroke in (("flag", 1, P_FLAG, flagged), ("cross", 7, P_CROSS, crossed),
                                           ("hook", 9, P_HOOK, hooked)):
        if kind in kinds and labels is not None:
            chosen = np.flatnonzero((labels == digit) & (rng.random(m) < share))
            if len(chosen):
                out[chosen] = add_stroke(out[chosen], rng)
    positions = source_positions(m, rng, kinds) if any(k in kinds for k in GEOMETRIC) else None
    return Distortions(out, positions, rng.random(m) if "thickness" in kinds else None)


@dataclass(frozen=True)
class DistortedBatch:
    """A batch of distorted images whose columns are made when asked for,
    part by part: Network.gradient makes its first half, and the worker
    process that computes the second half makes that one (second_half.py),
    so the two cores share the warp, most of a distortion's work.  The same
    numbers as as_columns(augment(...)) of the whole batch."""

    distortions: Distortions
    pixels_together: bool

    @property
    def shape(self):
        return (PIXELS, len(self.distortions.images))

    def columns(self, a=0, b=None):
        return as_columns(self.distortions.apply(a, b), self.pixels_together)


def source_positions(m, rng, kinds):
    """Where each output pixel of m images reads its input: (m, 2, 784)
    float32 x and y.

    Affine: shear by k, rotate by theta, scale by s and shift by t, about
    the centre c: output p reads A^-1 (p - c - t) + c, A = s R(theta) [[1, k], [0, 1]].
    Elastic: plus a smooth random displacement of each pixel."""
    zeros = np.zeros(m)
    theta = np.radians(rng.uniform(-MAX_ROTATION, MAX_ROTATION, m)) if "rotate" in kinds else zeros
    scale = rng.uniform(1 - MAX_SCALE, 1 + MAX_SCALE, m) if "scale" in kinds else zeros + 1
    shear = rng.uniform(-MAX_SHEAR, MAX_SHEAR, m) if "shear" in kinds else zeros
    shift = rng.uniform(-MAX_SHIFT, MAX_SHIFT, (2, m)) if "shift" in kinds else np.zeros((2, m))
    cos, sin = np.cos(theta), np.sin(theta)
    # A^-1 = [[1, -k], [0, 1]] R(-theta) / s, one 2x2 matrix per image.
    inverse = np.array([[cos + shear * sin, sin - shear * cos], [-sin, cos]]) / scale   # (2, 2, m)
    affine = np.empty((m, 2, 3))
    affine[:, :, :2] = inverse.transpose(2, 0, 1)
    affine[:, :, 2] = _CENTRE - np.einsum("ijm,jm->mi", inverse, shift)
    positions = np.matmul(affine.astype(np.float32), _GRID)
    if "elastic" in kinds:
        field = rng.random((m, 2, SIZE, SIZE), dtype=np.float32)  # uniform(-1, 1) is 2 (field - 0.5)
        field -= np.float32(0.5)
        smooth = _SMOOTH @ field @ _SMOOTH.T
        positions += np.float32(2 * ELASTIC_ALPHA) * smooth.reshape(m, 2, SIZE * SIZE)
    return positions


def warp(images, positions):
    """Images (m, 28, 28) sampled at `positions` (m, 2, 784) by bilinear
    interpolation, reading zero outside the image."""
    m = images.shape[0]
    # A frame of zeros (one pixel before, two after), with positions clipped
    # into it, makes every sample outside the image read zero without any
    # special case, and keeps every neighbour of a sample inside the array.
    padded = np.zeros((m, _PADDED, _PADDED), dtype=np.float32)
    padded[:, 1:SIZE + 1, 1:SIZE + 1] = images
    positions = positions + np.float32(1)  # into the frame's coordinates
    np.maximum(positions, 0, out=positions)
    np.minimum(positions, SIZE + 1, out=positions)
    corner = np.floor(positions)
    fraction = positions - corner
    fx, fy = fraction[:, 0], fraction[:, 1]
    index = (corner[:, 1] * _PADDED + corner[:, 0]).astype(np.intp)
    index += (np.arange(m) * _PADDED * _PADDED)[:, None]
    # The four neighbours, each gathered from the flat images shifted by its
    # offset (a view: no index array added to; np.take gathers faster than
    # fancy indexing, the same numbers).
    flat = padded.ravel()
    top = np.take(flat, index)
    top += (np.take(flat[1:], index) - top) * fx
    bottom = np.take(flat[_PADDED:], index)
    bottom += (np.take(flat[_PADDED + 1:], index) - bottom) * fx
    bottom -= top
    bottom *= fy
    top += bottom
    return top.reshape(m, SIZE, SIZE)


def _thickness(images, draws):
    """Thicken some digits (a max over each pixel's 4 neighbours: a bolder
    pen) and thin others (a min over a 2x2 block: a finer pen)."""
    out = images.copy()
    thicker = draws < P_THICKER
    if thicker.any():
        x = images[thicker]
        grown = x.copy()
        np.maximum(grown[:, 1:], x[:, :-1], out=grown[:, 1:])
        np.maximum(grown[:, :-1], x[:, 1:], out=grown[:, :-1])
        np.maximum(grown[:, :, 1:], x[:, :, :-1], out=grown[:, :, 1:])
        np.maximum(grown[:, :, :-1], x[:, :, 1:], out=grown[:, :, :-1])
        out[thicker] = grown
    thinner = draws > 1 - P_THINNER
    if thinner.any():
        x = images[thinner]
        shrunk = x.copy()
        np.minimum(shrunk[:, 1:], x[:, :-1], out=shrunk[:, 1:])
        np.minimum(shrunk[:, :, 1:], shrunk[:, :, :-1].copy(), out=shrunk[:, :, 1:])
        out[thinner] = shrunk
    return out


def flagged(ones, rng):
    """1s (k, 28, 28) in [0, 1] with a flag: a round-pen stroke from the top
    of the ink, down to the left, each pixel as bright as it is close to the
    segment (full within half a pen width, fading over one pixel)."""
    k = ones.shape[0]
    ink, rows_with_ink, top, bottom, height = _extent(ones)
    # The stroke's top end: the middle of the ink in the top two rows.
    x0 = _middle(ink[np.arange(k), top] | ink[np.arange(k), np.minimum(top + 1, SIZE - 1)])
    y0 = top.astype(np.float64)
    # The pen's width: ink pixels per inked row (a 1 is about one stroke wide).
    width = np.maximum(ink.sum(axis=(1, 2)) / np.maximum(rows_with_ink.sum(axis=1), 1), 1.5)
    length = rng.uniform(*FLAG_LENGTH, k) * height
    angle = np.radians(rng.uniform(*FLAG_ANGLE, k))
    return np.maximum(ones, segments(x0, y0, -length * np.cos(angle), length * np.sin(angle), width))


def crossed(sevens, rng):
    """7s (k, 28, 28) in [0, 1] with a bar across the stem, as many hands
    cross a 7 (MNIST's are mostly bare, so a network reads a crossed 7 as a
    2): a short round-pen stroke centred on the stem about half way down."""
    k = sevens.shape[0]
    ink, _, top, _, height = _extent(sevens)
    # The bar's middle: the middle of the ink in the row 45-60% of the way down.
    row = np.clip(top + rng.uniform(0.45, 0.6, k) * height, 0, SIZE - 1).round().astype(np.intp)
    in_row = ink[np.arange(k), row]
    xc = np.where(in_row.any(axis=1), _middle(in_row), _CENTRE)
    width = pen_width(sevens)
    length = rng.uniform(*CROSS_LENGTH, k) * height
    tilt = np.radians(rng.uniform(-CROSS_TILT, CROSS_TILT, k))
    dx, dy = length * np.cos(tilt), -length * np.sin(tilt)
    bar = segments(xc - dx / 2, row - dy / 2, dx, dy, width)
    return np.maximum(sevens, bar)


def hooked(nines, rng):
    """9s (k, 28, 28) in [0, 1] whose stem ends in a tail turning back to the
    left (MNIST's 9s mostly end straight, so a network reads a hooked 9 as a
    3): a round-pen stroke from the bottom of the ink, left and up."""
    k = nines.shape[0]
    ink, _, _, bottom, height = _extent(nines)
    x0 = _middle(ink[np.arange(k), bottom])
    length = rng.uniform(*HOOK_LENGTH, k) * height
    angle = np.radians(rng.uniform(*HOOK_ANGLE, k))
    width = pen_width(nines)
    # Start half a pen width above the bottom, so the tail joins the stem's end.
    tail = segments(x0, bottom - width / 2, -length * np.cos(angle), -length * np.sin(angle), width)
    return np.maximum(nines, tail)


def _extent(images):
    """Where the ink of images (k, 28, 28) is: (ink as booleans, which rows
    have ink, the top and bottom inked rows, the height between them)."""
    ink = images > 0.5
    rows_with_ink = ink.any(axis=2)
    top = rows_with_ink.argmax(axis=1)
    bottom = SIZE - 1 - rows_with_ink[:, ::-1].argmax(axis=1)
    return ink, rows_with_ink, top, bottom, np.maximum(bottom - top + 1, 1)


def _middle(row_ink):
    """The mean column of each row of booleans (k, 28) (0 where it has none)."""
    return (row_ink * np.arange(SIZE)).sum(axis=1) / np.maximum(row_ink.sum(axis=1), 1)


def pen_width(images):
    """Each image's stroke width in pixels: twice the ink's area over its
    outline (a stroke of length L and width w has area w L and an outline
    about 2 L long), at least 1.5."""
    outline = np.abs(np.diff(images, axis=1)).sum(axis=(1, 2)) + np.abs(np.diff(images, axis=2)).sum(axis=(1, 2))
    return np.maximum(2 * images.sum(axis=(1, 2)) / np.maximum(outline, 1e-6), 1.5)


def segments(x0, y0, dx, dy, width):
    """k images (k, 28, 28) each holding one round-pen stroke from (x0, y0)
    to (x0 + dx, y0 + dy), `width` px wide: each pixel as bright as it is
    close to the segment (full within half a pen width, fading over one pixel)."""
    k = len(x0)
    squared = np.maximum(dx ** 2 + dy ** 2, 1e-6)
    # Distance from each pixel to the segment (x0, y0) + t (dx, dy), t in [0, 1].
    px, py = _COLS.ravel()[None] - x0[:, None], _ROWS.ravel()[None] - y0[:, None]
    t = np.clip((px * dx[:, None] + py * dy[:, None]) / squared[:, None], 0, 1)
    distance = np.hypot(px - t * dx[:, None], py - t * dy[:, None])
    stroke = np.clip(width[:, None] / 2 + 0.5 - distance, 0, 1).astype(np.float32)
    return stroke.reshape(k, SIZE, SIZE)


# Zhang and Suen's thinning (1984) peels a shape's boundary pixels in two
# alternating passes until one-pixel lines remain.  Whether a pixel goes
# depends only on its 8 neighbours, so each pass looks its answer up in a
# table indexed by the neighbours as 8 bits: P2 (north), P3 (north-east), ...
# P9 (north-west), clockwise.
_NEIGHBOURS = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))


def _thinning_tables():
    codes = np.arange(256)
    p = [(codes >> i) & 1 for i in range(8)]              # p[0] = P2 ... p[7] = P9
    count = sum(p)
    rises = sum((1 - p[i]) & p[(i + 1) % 8] for i in range(8))   # 0 -> 1 going round
    keepable = (count >= 2) & (count <= 6) & (rises == 1)
    first = keepable & ((p[0] & p[2] & p[4]) == 0) & ((p[2] & p[4] & p[6]) == 0)
    second = keepable & ((p[0] & p[2] & p[6]) == 0) & ((p[0] & p[4] & p[6]) == 0)
    return first, second


_THIN_FIRST, _THIN_SECOND = _thinning_tables()


def skeletons(ink):
    """One-pixel-wide centre lines of boolean images (k, 28, 28) (Zhang-Suen)."""
    skeleton = ink.copy()
    changed = True
    while changed:
        changed = False
        for deletable in (_THIN_FIRST, _THIN_SECOND):
            padded = np.pad(skeleton, ((0, 0), (1, 1), (1, 1)))
            code = np.zeros(skeleton.shape, np.uint8)
            for bit, (dy, dx) in enumerate(_NEIGHBOURS):
                code |= padded[:, 1 + dy:1 + dy + SIZE, 1 + dx:1 + dx + SIZE].astype(np.uint8) << bit
            remove = skeleton & deletable[code]
            if remove.any():
                skeleton &= ~remove
                changed = True
    return skeleton


# The pen's footprint: every offset within reach of the largest radius.
_REACH = int(np.ceil(PEN_RADIUS[1] + 0.5))
_OFFSETS = [(dy, dx) for dy in range(-_REACH, _REACH + 1) for dx in range(-_REACH, _REACH + 1)]


def redrawn(images, rng):
    """Images (k, 28, 28) in [0, 1] redrawn with a round pen of a random
    radius along their skeleton, as a canvas draws (every stroke one width,
    round ends), where MNIST's pens swell and taper."""
    k = images.shape[0]
    skeleton = skeletons(images > 0.3).astype(np.float32)
    radius = rng.uniform(*PEN_RADIUS, k).astype(np.float32)[:, None, None]
    padded = np.pad(skeleton, ((0, 0), (_REACH, _REACH), (_REACH, _REACH)))
    out = np.zeros_like(images)
    for dy, dx in _OFFSETS:
        # A skeleton pixel this far away inks this pixel fully within the
        # radius and fades over the next pixel (anti-aliasing).
        weight = np.clip(radius + np.float32(0.5 - np.hypot(dy, dx)), 0, 1)
        shifted = padded[:, _REACH + dy:_REACH + dy + SIZE, _REACH + dx:_REACH + dx + SIZE]
        np.maximum(out, shifted * weight, out=out)
    # An image with no ink to thin stays as it was.
    empty = skeleton.sum(axis=(1, 2)) == 0
    out[empty] = images[empty]
    return out
