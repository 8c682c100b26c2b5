"""Render pen trajectories the way a browser canvas draws them.

The Draw page hands us the RGBA image of an HTML canvas: white strokes with
round caps and joins on a transparent (or black) background. To measure how
well we read such drawings without a person drawing thousands of digits, we
replay recorded pen trajectories through the same kind of rendering.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

CANVAS_SIZE = 280
LINE_WIDTH_RANGE = (12, 30)
HEIGHT_RANGE = (110, 250)

# Browsers anti-alias strokes; drawing at 4x and averaging down does the same.
SUPERSAMPLE = 4


def stroke_bounds(strokes):
    """Return (min_xy, max_xy) of all points of a list of (n, 2) strokes."""
    points = np.concatenate([np.asarray(s, dtype=np.float64) for s in strokes])
    return points.min(axis=0), points.max(axis=0)


def fit_scale(extent, height, size, line_width):
    """Scale factor that makes the digit `height` px tall, kept fully on the canvas."""
    room = size - line_width
    return min(min(height, room) / extent[1], room / extent[0])


def render_strokes(strokes, size=CANVAS_SIZE, line_width=20.0, height=200.0,
                   offset=(40.0, 40.0), background="transparent"):
    """Draw strokes on a (size, size, 4) uint8 RGBA canvas, white ink.

    `strokes` is a list of (n, 2) arrays of x, y points (y down) in any unit.
    The digit is scaled, keeping its aspect ratio, so that its stroke centre
    lines are `height` px tall (limited so that it fits on the canvas),
    and its top-left corner lands at `offset` (x, y) in canvas pixels.
    `background` is "transparent" (alpha 0, what the canvas component gives
    when it has no background fill) or "black" (opaque black).
    """
    low, high = stroke_bounds(strokes)
    scale = fit_scale(np.maximum(high - low, 1e-6), height, size, line_width)

    coverage = Image.new("L", (size * SUPERSAMPLE, size * SUPERSAMPLE), 0)
    draw = ImageDraw.Draw(coverage)
    radius = line_width * SUPERSAMPLE / 2
    for stroke in strokes:
        canvas_xy = (np.asarray(stroke, dtype=np.float64) - low) * scale + offset
        points = [tuple(p) for p in canvas_xy * SUPERSAMPLE]
        if len(points) > 1:
            draw.line(points, fill=255, width=round(2 * radius), joint="curve")
        # Round caps (and round joins where Pillow's curve joint misses).
        for x, y in (points[0], points[-1]):
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    return paint_white(blank_canvas(size, background), coverage)


def blank_canvas(size, background="transparent"):
    """An empty (size, size, 4) RGBA canvas: transparent, or opaque black."""
    if background not in ("transparent", "black"):
        raise ValueError(f"background must be 'transparent' or 'black', not {background!r}")
    canvas = np.zeros((size, size, 4), dtype=np.uint8)
    canvas[..., 3] = 255 if background == "black" else 0
    return canvas


def paint_white(canvas, coverage):
    """Paint white through a supersampled coverage mask, as a canvas does ("source-over").

    The mask (mode "L", SUPERSAMPLE times the canvas size) is averaged down,
    which anti-aliases the edges. A canvas stores unpremultiplied colour, so
    white ink on a transparent background stays white with partial alpha.
    """
    height, width = canvas.shape[:2]
    ink = np.asarray(coverage.resize((width, height), Image.Resampling.BOX), dtype=np.float64)[..., None] / 255
    colour = canvas[..., :3] / 255.0
    alpha = canvas[..., 3:] / 255.0
    new_alpha = ink + alpha * (1 - ink)
    new_colour = (ink + colour * alpha * (1 - ink)) / np.maximum(new_alpha, 1e-12)
    return (np.concatenate([new_colour, new_alpha], axis=-1) * 255).round().astype(np.uint8)


def draw_dot(canvas, centre, diameter):
    """A copy of an RGBA canvas with a round white dot on it: a tap of the pen."""
    height, width = canvas.shape[:2]
    coverage = Image.new("L", (width * SUPERSAMPLE, height * SUPERSAMPLE), 0)
    x, y = (c * SUPERSAMPLE for c in centre)
    radius = diameter * SUPERSAMPLE / 2
    ImageDraw.Draw(coverage).ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    return paint_white(canvas, coverage)


def random_canvas(strokes, rng, size=CANVAS_SIZE, background="transparent"):
    """Render strokes like a random user: random line width, height and position.

    The line width is uniform in LINE_WIDTH_RANGE, the digit's height uniform
    in HEIGHT_RANGE (scaled by size / 280 for other canvas sizes), and the
    digit lies fully on the canvas, strokes included.
    """
    factor = size / CANVAS_SIZE
    line_width = rng.uniform(*LINE_WIDTH_RANGE) * factor
    height = rng.uniform(*HEIGHT_RANGE) * factor
    low, high = stroke_bounds(strokes)
    extent = np.maximum(high - low, 1e-6)
    drawn = extent * fit_scale(extent, height, size, line_width)
    margin = line_width / 2
    offset = [rng.uniform(margin, max(margin, size - margin - d)) for d in drawn]
    return render_strokes(strokes, size, line_width, height, offset, background)


def load_pendigits(path):
    """Read pendigits-train-strokes.npz: a list of digits (lists of strokes) and labels."""
    with np.load(path) as data:
        points, stroke_ptr = data["points"], data["stroke_ptr"]
        sample_ptr, labels = data["sample_ptr"], data["labels"]
    strokes = [points[a:b] for a, b in zip(stroke_ptr[:-1], stroke_ptr[1:])]
    digits = [strokes[a:b] for a, b in zip(sample_ptr[:-1], sample_ptr[1:])]
    return digits, labels
