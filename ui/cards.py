"""Pictures of digits as cards: a digit enlarged, framed in a colour, with a
line of text beneath (the network's reading, its confidence)."""

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from network.visualise import enlarge, tile

RIGHT, WRONG = "#1a7f37", "#cf222e"
CARD = 56               # pixels of a digit in a picture of digits
FONT = ImageFont.load_default(size=18)
SMALL_FONT = ImageFont.load_default(size=14)   # for cards with several lines
LINE = 24               # pixels of a line of text under a card


def card(image, text, colour):
    """A digit enlarged, dark ink on white, framed in `colour`, with `text`
    beneath (one line per line of `text`)."""
    frame, lines = 3, text.split("\n")
    font, line = (FONT, LINE) if len(lines) == 1 else (SMALL_FONT, LINE - 6)
    strip = line * len(lines) + (0 if len(lines) == 1 else 6)
    picture = Image.new("RGB", (CARD + 2 * frame, CARD + 2 * frame + strip), colour)
    picture.paste(Image.fromarray(enlarge(255 - np.asarray(image), CARD)), (frame, frame))
    pen = ImageDraw.Draw(picture)
    top = CARD + 2 * frame
    pen.rectangle((0, top, CARD + 2 * frame, top + strip), fill="white")
    for n, words in enumerate(lines):
        pen.text((CARD / 2 + frame, top + line * (n + 0.5) + (3 if len(lines) > 1 else 0)), words, fill=colour,
                 font=font, anchor="mm")
    return np.asarray(picture)

def cards(images, texts, colours, columns):
    return tile(np.stack([card(i, t, c) for i, t, c in zip(images, texts, colours)]), columns, gap=4)
