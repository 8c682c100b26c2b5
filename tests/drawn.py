"""Digits drawn as a user would on the 280x280 canvas (white ink on black),
as polylines in canvas coordinates: shared by the page and browser tests."""

import base64
import io

import numpy as np
from PIL import Image, ImageDraw

STROKES = {
    1: [[(150, 50), (140, 140), (135, 235)]],
    7: [[(80, 60), (200, 60), (170, 130), (130, 240)]],
    0: [[(140, 50), (95, 80), (80, 140), (95, 210), (140, 235), (185, 210), (200, 140), (185, 80), (140, 50)]],
    2: [[(90, 85), (140, 50), (190, 85), (180, 135), (90, 230), (205, 230)]],
    3: [[(90, 60), (185, 60), (130, 130), (190, 180), (140, 235), (85, 215)]],
    4: [[(160, 235), (160, 50), (80, 170), (210, 170)]],
    5: [[(190, 55), (105, 55), (95, 130), (160, 120), (195, 170), (160, 230), (90, 220)]],
    6: [[(180, 55), (115, 110), (90, 190), (130, 235), (180, 200), (170, 150), (100, 165)]],
    8: [[(140, 135), (95, 95), (140, 50), (185, 95), (140, 135), (90, 185), (140, 235), (190, 185), (140, 135)]],
    9: [[(185, 100), (140, 55), (95, 95), (140, 135), (185, 100), (175, 235)]],
}


def draw_digit(digit, width=18, size=280):
    """The canvas's RGBA image of a drawn digit."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 255))
    pen = ImageDraw.Draw(image)
    for stroke in STROKES[digit]:
        pen.line(stroke, fill=(255, 255, 255, 255), width=width, joint="curve")
        for x, y in (stroke[0], stroke[-1]):
            pen.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=(255, 255, 255, 255))
    return np.asarray(image)


def canvas_state(rgba):
    """What streamlit-drawable-canvas keeps in session state after a stroke."""
    buffer = io.BytesIO()
    Image.fromarray(rgba).save(buffer, format="PNG")
    data = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    return {"drawing": {"raw": {"objects": []}, "data": data}}
