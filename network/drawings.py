"""The "Was I wrong?" drawings of earlier versions, moved into the store.

Before the store, data/drawings/ held per drawing its 28x28 network input
and raw canvas as PNG files, plus one line in index.csv.  The first time a
store is opened they are imported, in one transaction, and the store
remembers it, so that a drawing a teacher later removes never comes back.
The files are left where they are.
"""

import csv
from datetime import datetime

import numpy as np
from PIL import Image

from .store import encode_canvas, encode_pixels

IMPORTED = "imported data/drawings"   # the settings row that says it was done


def import_drawings(store, folder):
    """Import index.csv's drawings once; returns how many (0 if done before)."""
    index = folder / "index.csv"
    if not index.exists():
        return 0
    with store.db.transaction(write=True) as cursor:
        if cursor.one("SELECT 1 FROM settings WHERE name = ?", (IMPORTED,)):
            return 0
        count = 0
        with index.open(newline="") as f:
            for row in csv.DictReader(f):
                pixels = _read_image(folder / f"{row['id']}-28x28.png")
                if pixels is None or pixels.shape != (28, 28):
                    continue   # written by a crash halfway: the line came after the file, so rare
                canvas = _read_image(folder / f"{row['id']}-canvas.png")
                try:
                    values = (int(row["label"]), int(row["predicted"]), row["model"], encode_pixels(pixels / 255),
                              None if canvas is None else encode_canvas(canvas.astype(np.uint8)),
                              datetime.fromisoformat(row["created"]).timestamp(), row["id"])
                except (KeyError, TypeError, ValueError):
                    continue   # a line cut short by a crash
                if not (0 <= values[0] <= 9 and 0 <= values[1] <= 9):
                    continue
                cursor.execute(
                    "INSERT INTO drawings (label, label_source, predicted, model, pixels, canvas_png, created, "
                    "legacy_id) VALUES (?, 'correction', ?, ?, ?, ?, ?, ?) ON CONFLICT (legacy_id) DO NOTHING",
                    values)
                count += 1
        cursor.execute("INSERT INTO settings (name, value) VALUES (?, ?)", (IMPORTED, str(count)))
    return count


def _read_image(path):
    try:
        with Image.open(path) as image:
            if image.width * image.height > 1024 * 1024:
                return None
            return np.asarray(image.convert("L"), dtype=np.float32)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
