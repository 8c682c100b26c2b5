"""Images from outside: files given to the command line, and the PNG a
browser's canvas sends.  Their size is read from the header (Pillow opens
lazily) and checked before a single pixel is decoded, so a small file that
claims 20000x20000 pixels costs nothing."""

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import UserError

MAX_PIXELS = 4096 * 4096          # an image file: 64 MB once decoded as RGBA
MAX_CANVAS_BYTES = 2 * 1024 * 1024  # a 280x280 canvas's PNG is at most ~0.3 MB
MAX_CANVAS_SCALE = 3              # a canvas may come at up to 3x its size (high-density screens)
BOMBS = (Image.DecompressionBombError, Image.DecompressionBombWarning)
UNREADABLE = (OSError, UnidentifiedImageError, ValueError, SyntaxError, MemoryError)


class ImageError(UserError):
    """A file that cannot be read as an image of a sensible size."""


def opened(source, formats=None) -> Image.Image:
    """Image.open, which reads only the header; BOMBS for an image Pillow
    itself finds too large (it would only warn below twice its limit)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return Image.open(source, formats=formats)


def load_image(path: str | Path) -> np.ndarray:
    """Read a PNG/JPEG/... file into an RGBA uint8 array (keeps transparency)."""
    try:
        with opened(path) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageError(f"{path}: {width}x{height} pixels is too large; at most {MAX_PIXELS:,} pixels")
            return np.asarray(image.convert("RGBA"))
    except BOMBS:
        raise ImageError(f"{path}: too large an image; at most {MAX_PIXELS:,} pixels") from None
    except UNREADABLE as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ImageError(f"cannot read {path} as an image: {reason}") from None


def decode_canvas(png: bytes | None, side: int) -> np.ndarray | None:
    """The RGBA pixels of a canvas's PNG, or None (as for an empty canvas)
    when it is not a PNG of the canvas's size: a browser sends exactly that,
    so anything else came from someone tampering with the page."""
    if png is None or len(png) > MAX_CANVAS_BYTES:
        return None
    try:
        with opened(io.BytesIO(png), formats=["PNG"]) as image:
            width, height = image.size
            if width != height or width % side or not 1 <= width // side <= MAX_CANVAS_SCALE:
                return None
            pixels = np.asarray(image.convert("RGBA"))
    except (*BOMBS, *UNREADABLE):
        return None
    if width != side:  # a high-density screen's canvas: back to the canvas's own size
        pixels = np.asarray(Image.fromarray(pixels).resize((side, side), Image.Resampling.BOX))
    return pixels


def read_canvas(result, side: int) -> np.ndarray | None:
    """The pixels of what a drawable canvas sent (its `image_bytes`, a PNG),
    or None as for an empty canvas: a data URL that is not even base64 is
    tampering too."""
    try:
        png = result.image_bytes
    except ValueError:  # binascii.Error, or a data URL without ";base64,"
        return None
    return decode_canvas(png, side)
