"""Random distortions of training images, so the network reads drawings.

MNIST digits are neatly centred, upright and written with a pen of one
width; digits drawn on a canvas are not.  Showing the network slightly
shifted, rotated, rescaled and thicker or thinner copies of each training
image (new ones every time it sees it) teaches it that none of those
changes the digit.
"""

import numpy as np

AUGMENTATIONS = ("shift", "rotate", "scale", "shear", "thickness")

MAX_SHIFT = 2.5        # pixels
MAX_ROTATION = 15.0    # degrees
MAX_SCALE = 0.15       # +-15% size
MAX_SHEAR = 0.3        # x moves by up to 0.3 y: a slanted hand
P_THICKER, P_THINNER = 0.3, 0.15

_CENTRE = 13.5
_ROWS, _COLS = np.mgrid[0:28, 0:28].astype(np.float32)


def augment(images, rng, kinds=AUGMENTATIONS):
    """A randomly distorted copy of a batch of uint8 images (m, 28, 28), as
    float32 in [0, 1].  `kinds` picks which distortions to use."""
    m = images.shape[0]
    out = images.astype(np.float32) * np.float32(1 / 255)
    if any(k in kinds for k in ("shift", "rotate", "scale", "shear")):
        out = _affine(out, rng, kinds)
    if "thickness" in kinds:
        out = _thickness(out, rng.random(m))
    return out


def _affine(images, rng, kinds):
    """Shear by k, rotate by theta, scale by s and shift by t, about the
    centre, by sampling each output pixel p at  A^-1 (p - c - t) + c  of the
    input, bilinearly interpolated (zero outside the image), where
    A = s R(theta) [[1, k], [0, 1]]."""
    m = images.shape[0]
    zeros = np.zeros(m)
    theta = np.radians(rng.uniform(-MAX_ROTATION, MAX_ROTATION, m)) if "rotate" in kinds else zeros
    scale = rng.uniform(1 - MAX_SCALE, 1 + MAX_SCALE, m) if "scale" in kinds else zeros + 1
    shear = rng.uniform(-MAX_SHEAR, MAX_SHEAR, m) if "shear" in kinds else zeros
    shift = rng.uniform(-MAX_SHIFT, MAX_SHIFT, (2, m)) if "shift" in kinds else np.zeros((2, m))
    cos, sin = np.cos(theta), np.sin(theta)
    # A^-1 = [[1, -k], [0, 1]] R(-theta) / s, one 2x2 matrix per image.
    inverse = np.array([[cos + shear * sin, sin - shear * cos], [-sin, cos]]) / scale
    a, b, c, d = (entry.astype(np.float32)[:, None, None] for entry in inverse.reshape(4, m))
    x = _COLS - _CENTRE - shift[0][:, None, None].astype(np.float32)
    y = _ROWS - _CENTRE - shift[1][:, None, None].astype(np.float32)
    src_x = a * x + b * y + np.float32(_CENTRE)
    src_y = c * x + d * y + np.float32(_CENTRE)

    # A one-pixel frame of zeros, with coordinates clipped into it, makes
    # every sample outside the image read zero without any special case.
    padded = np.zeros((m, 30, 30), dtype=np.float32)
    padded[:, 1:29, 1:29] = images
    np.clip(src_x, -1, 28, out=src_x)
    np.clip(src_y, -1, 28, out=src_y)
    x0, y0 = np.floor(src_x), np.floor(src_y)
    fx, fy = src_x - x0, src_y - y0
    base = (np.arange(m) * 900)[:, None, None] + (y0.astype(np.int64) + 1) * 30 + x0.astype(np.int64) + 1
    flat = padded.ravel()
    np.clip(base, 0, flat.size - 32, out=base)
    top = flat[base] * (1 - fx) + flat[base + 1] * fx
    bottom = flat[base + 30] * (1 - fx) + flat[base + 31] * fx
    return top * (1 - fy) + bottom * fy


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
