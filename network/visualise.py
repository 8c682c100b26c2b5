"""Pictures of what the network sees and computes, as uint8 arrays.

Small images are enlarged with nearest-neighbour so that every pixel stays
a visible square; signed maps (weights, saliency) use red for positive and
blue for negative, so zero is always white.
"""

import io

import numpy as np
from PIL import Image


def enlarge(image: np.ndarray, size: int) -> np.ndarray:
    """A 2-D (or RGB) image scaled up to `size` pixels wide, pixels kept square."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = (np.clip(image, 0, 1) * 255).astype(np.uint8)
    height, width = image.shape[:2]
    shape = (size, max(1, round(size * height / width)))
    return np.asarray(Image.fromarray(image).resize(shape, Image.Resampling.NEAREST))


def png(image: np.ndarray) -> bytes:
    """A uint8 picture (grey or RGB) as PNG bytes, at zlib's fastest level.
    The pages redraw these pictures on every reading and every second of a
    training run: Streamlit's own encoding of an array (level 6) took 53 ms
    for a 480-pixel picture of a Fast demo's first layer, this 9 ms, for a
    file 10% larger (python scripts/picture_cost.py)."""
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image)).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def diverging(values: np.ndarray, limit: float | None = None) -> np.ndarray:
    """Signed values as RGB: white at zero, red positive, blue negative,
    full colour at +-limit (default: the largest magnitude)."""
    values = np.asarray(values, dtype=np.float32)
    limit = limit or float(np.abs(values).max()) or 1.0
    t = np.clip(values / limit, -1, 1)
    rgb = np.ones(values.shape + (3,), dtype=np.float32)
    rgb[..., 1] -= np.abs(t)                 # green fades either way
    rgb[..., 2] -= np.clip(t, 0, None)       # positive: keep red
    rgb[..., 0] -= np.clip(-t, 0, None)      # negative: keep blue
    return (rgb * 255).astype(np.uint8)


def saliency_overlay(pixels: np.ndarray, saliency: np.ndarray) -> np.ndarray:
    """The input digit in grey with the saliency map laid over it: red where
    more ink would raise the winning score, blue where it would lower it."""
    colour = diverging(saliency).astype(np.float32)
    grey = (1 - 0.6 * np.asarray(pixels, dtype=np.float32))[..., None] * 255
    strength = np.clip(np.abs(saliency) / (np.abs(saliency).max() or 1.0), 0, 1)[..., None]
    return (strength * colour + (1 - strength) * grey).astype(np.uint8)


def tile(images: np.ndarray, columns: int, gap: int = 1, background: int = 255) -> np.ndarray:
    """Lay equally-sized images (n, h, w) or (n, h, w, 3) out in a grid."""
    images = np.asarray(images)
    n, h, w = images.shape[:3]
    rows = -(-n // columns)
    grid = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap) + images.shape[3:], background, images.dtype)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        grid[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = image
    return grid


def scaled_grey(values: np.ndarray) -> np.ndarray:
    """Non-negative activations as uint8 grey, brightest = largest."""
    values = np.asarray(values, dtype=np.float32)
    top = float(values.max()) or 1.0
    return (np.clip(values / top, 0, 1) * 255).astype(np.uint8)
