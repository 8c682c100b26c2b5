"""Drawings users have labelled ("Was I wrong?"), kept for later training.

data/drawings/ holds, per drawing, its 28x28 network input and the raw
canvas as PNG files, plus one line in index.csv.  Nothing is ever rewritten:
files are written to a temporary name and renamed into place, and each
index line is appended with a single write, so a crash loses at most the
drawing being saved.
"""

import csv
import io
import os
import secrets
import tempfile
import threading
from datetime import datetime, timezone

import numpy as np
from PIL import Image

from .data import data_dir

INDEX_FIELDS = ["id", "label", "predicted", "model", "created"]
_index_lock = threading.Lock()


def drawings_dir():
    return data_dir() / "drawings"


def save_drawing(pixels, raw_png, label, predicted, model):
    """Store one labelled drawing; returns how many are stored now."""
    if not 0 <= int(label) <= 9:
        raise ValueError("the label must be a digit 0-9")
    folder = drawings_dir()
    folder.mkdir(parents=True, exist_ok=True)
    created = datetime.now(timezone.utc)
    drawing_id = f"{created:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
    small = Image.fromarray((np.clip(pixels, 0, 1) * 255).round().astype(np.uint8))
    _write_atomically(folder / f"{drawing_id}-28x28.png", _png_bytes(small))
    if raw_png:
        _write_atomically(folder / f"{drawing_id}-canvas.png", raw_png)
    line = io.StringIO()
    csv.writer(line).writerow([drawing_id, int(label), int(predicted), model, created.isoformat(timespec="seconds")])
    index = folder / "index.csv"
    with _index_lock:
        new = not index.exists()
        fd = os.open(index, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, ((",".join(INDEX_FIELDS) + "\n") if new else "").encode() + line.getvalue().encode())
        finally:
            os.close(fd)
    return count_drawings()


def count_drawings():
    index = drawings_dir() / "index.csv"
    if not index.exists():
        return 0
    with index.open(newline="") as f:
        return max(0, sum(1 for _ in csv.reader(f)) - 1)


def _png_bytes(image):
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _write_atomically(path, data):
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
