"""Drawings that are not digits: letters and doodles, drawn as a canvas draws them.

To measure whether the app can tell a digit from anything else, we need
things that are not digits, drawn the way users draw: pen strokes, round
caps, any size and place on the 280x280 canvas (render_strokes.py). Every
shape here is a list of strokes, each a polyline in a unit box (x right,
y down), jittered per drawing as a hand would wobble. Letters that are
written like a digit (O, I, l, S, Z, b, g, q, ...) are left out: reading
them as a digit is right. Letters can also come from a font (DejaVu, when
the machine has it) for a second, stroke-free opinion.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from scripts.render_strokes import CANVAS_SIZE, random_canvas

# Capital letters as strokes, in a unit box. Not here: letters a person
# writes like a digit (O 0, I 1, S 5, Z 2, B 8, G 6, D 0, J, L, U, C, Q, T, V, Y, 7-like).
LETTERS = {
    "A": [[(0, 1), (0.5, 0), (1, 1)], [(0.22, 0.6), (0.78, 0.6)]],
    "E": [[(0.9, 0), (0.1, 0), (0.1, 1), (0.9, 1)], [(0.1, 0.5), (0.7, 0.5)]],
    "F": [[(0.9, 0), (0.1, 0), (0.1, 1)], [(0.1, 0.5), (0.7, 0.5)]],
    "H": [[(0.1, 0), (0.1, 1)], [(0.9, 0), (0.9, 1)], [(0.1, 0.5), (0.9, 0.5)]],
    "K": [[(0.1, 0), (0.1, 1)], [(0.9, 0), (0.1, 0.55)], [(0.35, 0.4), (0.9, 1)]],
    "M": [[(0, 1), (0.1, 0), (0.5, 0.6), (0.9, 0), (1, 1)]],
    "N": [[(0.1, 1), (0.1, 0), (0.9, 1), (0.9, 0)]],
    "P": [[(0.1, 1), (0.1, 0), (0.7, 0), (0.9, 0.15), (0.9, 0.35), (0.7, 0.5), (0.1, 0.5)]],
    "R": [[(0.1, 1), (0.1, 0), (0.7, 0), (0.9, 0.15), (0.9, 0.35), (0.7, 0.5), (0.1, 0.5)],
          [(0.45, 0.5), (0.9, 1)]],
    "W": [[(0, 0), (0.25, 1), (0.5, 0.35), (0.75, 1), (1, 0)]],
    "X": [[(0.05, 0), (0.95, 1)], [(0.95, 0), (0.05, 1)]],
    "e": [[(0.1, 0.55), (0.9, 0.55), (0.8, 0.25), (0.5, 0.1), (0.2, 0.25), (0.1, 0.6), (0.3, 0.9),
           (0.6, 0.95), (0.9, 0.8)]],
    "h": [[(0.15, 0), (0.15, 1)], [(0.15, 0.6), (0.4, 0.4), (0.75, 0.45), (0.85, 0.6), (0.85, 1)]],
    "m": [[(0.05, 0.3), (0.05, 1)], [(0.05, 0.45), (0.25, 0.3), (0.45, 0.4), (0.5, 1)],
          [(0.5, 0.45), (0.7, 0.3), (0.9, 0.4), (0.95, 1)]],
    "k": [[(0.2, 0), (0.2, 1)], [(0.8, 0.35), (0.2, 0.7)], [(0.4, 0.6), (0.85, 1)]],
}


def _arc(cx, cy, rx, ry, start, stop, n=24):
    """Points of an elliptic arc, angles in degrees (0 = right, 90 = down)."""
    t = np.radians(np.linspace(start, stop, n))
    return list(zip(cx + rx * np.cos(t), cy + ry * np.sin(t)))


def _dot(x, y, size=0.02):
    return [(x - size, y), (x + size, y)]


def _star(points=5):
    angles = np.radians(np.arange(points * 2 + 1) * 180 / points - 90)
    radii = np.where(np.arange(points * 2 + 1) % 2 == 0, 0.5, 0.2)
    return [list(zip(0.5 + radii * np.cos(angles), 0.5 + radii * np.sin(angles)))]


def _scribble(rng):
    """A random back-and-forth tangle, as a child fills a patch."""
    n = int(rng.integers(8, 16))
    return [list(zip(rng.uniform(0, 1, n), rng.uniform(0, 1, n)))]


def _squiggle(rng):
    waves = rng.uniform(2, 4)
    x = np.linspace(0, 1, 60)
    return [list(zip(x, 0.5 + 0.2 * np.sin(2 * np.pi * waves * x)))]


def _spiral(rng):
    t = np.linspace(0, rng.uniform(4, 6) * np.pi, 120)
    r = 0.5 * t / t[-1]
    return [list(zip(0.5 + r * np.cos(t), 0.5 + r * np.sin(t)))]


DOODLES = {
    "smiley": lambda rng: [_arc(0.5, 0.5, 0.5, 0.5, 0, 360, 48), _dot(0.33, 0.35), _dot(0.67, 0.35),
                           _arc(0.5, 0.55, 0.25, 0.18, 20, 160)],
    "face with eyes": lambda rng: [_arc(0.5, 0.5, 0.5, 0.5, 0, 360, 48), _arc(0.33, 0.38, 0.08, 0.08, 0, 360),
                                   _arc(0.67, 0.38, 0.08, 0.08, 0, 360), [(0.35, 0.72), (0.65, 0.72)]],
    "star": lambda rng: _star(),
    "scribble": _scribble,
    "hash": lambda rng: [[(0.35, 0), (0.3, 1)], [(0.7, 0), (0.65, 1)], [(0, 0.33), (1, 0.3)],
                         [(0, 0.68), (1, 0.65)]],
    "squiggle": _squiggle,
    "spiral": _spiral,
    "house": lambda rng: [[(0.1, 0.45), (0.1, 1), (0.9, 1), (0.9, 0.45), (0.1, 0.45), (0.5, 0), (0.9, 0.45)],
                          [(0.4, 1), (0.4, 0.7), (0.6, 0.7), (0.6, 1)]],
    "heart": lambda rng: [[(0.5, 1), (0.1, 0.55), (0.05, 0.3), (0.15, 0.1), (0.35, 0.05), (0.5, 0.25),
                           (0.65, 0.05), (0.85, 0.1), (0.95, 0.3), (0.9, 0.55), (0.5, 1)]],
    "sun": lambda rng: [_arc(0.5, 0.5, 0.22, 0.22, 0, 360, 32)] + [
        [(0.5 + 0.32 * np.cos(a), 0.5 + 0.32 * np.sin(a)), (0.5 + 0.5 * np.cos(a), 0.5 + 0.5 * np.sin(a))]
        for a in np.radians(np.arange(0, 360, 45))],
    "square with cross": lambda rng: [[(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)], [(0, 0), (1, 1)], [(1, 0), (0, 1)]],
    "zigzag": lambda rng: [list(zip(np.linspace(0, 1, 9), [0.2, 0.8] * 4 + [0.2]))],
}


def jittered(strokes, rng, wobble=0.03, tilt=10.0):
    """The strokes as a hand draws them: tilted a little, stretched a little,
    every point moved a little. Returns (n, 2) float arrays."""
    angle = np.radians(rng.uniform(-tilt, tilt))
    rotate = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    stretch = np.diag(rng.uniform(0.8, 1.2, 2))
    out = []
    for stroke in strokes:
        points = np.asarray(stroke, dtype=np.float64)
        points = (points - 0.5) @ (rotate @ stretch).T + 0.5
        out.append(points + rng.normal(0, wobble, points.shape))
    return out


def stroke_canvases(shapes, per_shape, seed=0):
    """Yield (name, RGBA canvas) for `per_shape` random drawings of each
    shape ({name: strokes, or a function of rng giving strokes})."""
    rng = np.random.default_rng(seed)
    for name, shape in shapes.items():
        for _ in range(per_shape):
            strokes = shape(rng) if callable(shape) else shape
            yield name, random_canvas(jittered(strokes, rng), rng)


FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_LETTERS = "AEFHKMNPRWXehkmnrwx"  # as LETTERS: none a person writes like a digit


def font_canvases(per_letter=4, seed=0, letters=FONT_LETTERS):
    """Yield (name, canvas) for letters typed in the DejaVu fonts found on
    this machine, each at a random size and place; nothing when none is."""
    fonts = sorted(FONT_DIR.glob("DejaVuSans*.ttf")) if FONT_DIR.is_dir() else []
    rng = np.random.default_rng(seed)
    for letter in letters:
        for _ in range(per_letter if fonts else 0):
            font = ImageFont.truetype(str(fonts[rng.integers(len(fonts))]), int(rng.integers(120, 240)))
            image = Image.new("L", (CANVAS_SIZE, CANVAS_SIZE), 0)
            draw = ImageDraw.Draw(image)
            left, top, right, bottom = draw.textbbox((0, 0), letter, font=font)
            x = rng.uniform(0, max(1, CANVAS_SIZE - (right - left))) - left
            y = rng.uniform(0, max(1, CANVAS_SIZE - (bottom - top))) - top
            draw.text((x, y), letter, fill=255, font=font)
            alpha = np.asarray(image)
            canvas = np.zeros((CANVAS_SIZE, CANVAS_SIZE, 4), np.uint8)
            canvas[..., :3] = 255
            canvas[..., 3] = alpha
            yield f"font {letter}", canvas
