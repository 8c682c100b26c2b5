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
"""

import numpy as np

AUGMENTATIONS = ("shift", "rotate", "scale", "shear", "elastic", "thickness")
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


def augment(images, rng, kinds=AUGMENTATIONS):
    """A randomly distorted copy of a batch of uint8 images (m, 28, 28), as
    float32 in [0, 1].  `kinds` picks which distortions to use."""
    m = images.shape[0]
    out = images.astype(np.float32) * np.float32(1 / 255)
    if any(k in kinds for k in GEOMETRIC):
        out = warp(out, source_positions(m, rng, kinds))
    if "thickness" in kinds:
        out = _thickness(out, rng.random(m))
    return out


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
    positions += np.float32(1)  # into the frame's coordinates
    np.maximum(positions, 0, out=positions)
    np.minimum(positions, SIZE + 1, out=positions)
    corner = np.floor(positions)
    fraction = positions - corner
    fx, fy = fraction[:, 0], fraction[:, 1]
    index = (corner[:, 1] * _PADDED + corner[:, 0]).astype(np.intp)
    index += (np.arange(m) * _PADDED * _PADDED)[:, None]
    flat = padded.ravel()
    top = flat[index]
    top += (flat[index + 1] - top) * fx
    bottom = flat[index + _PADDED]
    bottom += (flat[index + _PADDED + 1] - bottom) * fx
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
