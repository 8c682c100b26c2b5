"""Pictures of digits as cards: a digit enlarged, framed in a colour, with a
line of text beneath (the network's reading, its confidence)."""

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from network.visualise import enlarge, tile

RIGHT, WRONG = "#1a7f37", "#cf222e"
CARD = 56               # pixels of a digit in a picture of digits
FONT = ImageFont.load_default(size=18)


def card(image, text, colour):
    """A digit enlarged, dark ink on white, framed in `colour`, with `text` beneath."""
    frame, strip = 3, 24
    picture = Image.new("RGB", (CARD + 2 * frame, CARD + 2 * frame + strip), colour)
    picture.paste(Image.fromarray(enlarge(255 - np.asarray(image), CARD)), (frame, frame))
    pen = ImageDraw.Draw(picture)
    pen.rectangle((0, CARD + 2 * frame, CARD + 2 * frame, CARD + 2 * frame + strip), fill="white")
    pen.text((CARD / 2 + frame, CARD + 2 * frame + strip / 2), text, fill=colour, font=FONT, anchor="mm")
    return np.asarray(picture)

def cards(images, texts, colours, columns):
    return tile(np.stack([card(i, t, c) for i, t, c in zip(images, texts, colours)]), columns, gap=4)
