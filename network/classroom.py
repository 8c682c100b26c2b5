"""What a class does with its drawings: the "Draw this" prompts, how the
network did on them, and the data the teacher takes home.

The store (store.py) keeps the drawings; this module only reads them.
"""

import csv
import io
import random
import zipfile
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .digits import Digits
from .errors import UserError
from .evaluation import confusion_matrix

ROUNDS = 3            # a student is asked for every digit this many times
FOOLED = 12           # how many of the most confidently wrong drawings to show
CSV_HEADER = ["label"] + [f"pixel{i}" for i in range(784)]
DETAIL_COLUMNS = ["writer", "source", "predicted", "confidence"]


def prompt(student, n):
    """The digit a student is asked to draw n-th: every digit once per round,
    in an order of the student's own, so a class does not all draw 7s at once."""
    order = []
    for round_ in range(n // 10 + 1):
        digits = list(range(10))
        random.Random(f"{student}/{round_}").shuffle(digits)
        order += digits
    return order[n]


@dataclass
class ClassReport:
    """How the network read a class's drawings."""
    total: int
    right: int
    per_digit: list           # (digit, drawings, right) for 0-9
    confusion: np.ndarray     # rows: the label, columns: the reading
    cells: dict               # (label, reading) -> drawing ids, newest first
    fooled: list              # the drawings it got most confidently wrong

    @property
    def accuracy(self):
        return self.right / self.total if self.total else None


def class_report(drawings, fooled=FOOLED):
    """Accuracy per digit, the confusion matrix and the most confident mistakes
    of drawings that have a reading."""
    read = [d for d in drawings if d.predicted is not None]
    labels = np.array([d.label for d in read], dtype=np.int64)
    readings = np.array([d.predicted for d in read], dtype=np.int64)
    confusion = confusion_matrix(labels, readings) if read else np.zeros((10, 10), np.int64)
    cells = {}
    for d in reversed(read):
        cells.setdefault((d.label, d.predicted), []).append(d.id)
    per_digit = [(digit, int(confusion[digit].sum()), int(confusion[digit, digit])) for digit in range(10)]
    wrong = sorted((d for d in read if not d.right), key=lambda d: -(d.confidence or 0))
    return ClassReport(len(read), int(np.trace(confusion)), per_digit, confusion, cells, wrong[:fooled])


def as_bytes(pixels):
    """A 28x28 image in [0, 1] as the 0-255 integers of MNIST and Kaggle's CSVs."""
    return (np.clip(pixels, 0, 1) * 255).round().astype(np.uint8)


def write_csv(drawings, file, details=False):
    """Kaggle's digit-recognizer format, `label,pixel0..pixel783`, which the
    Train page and the command line read; with details, who drew it, how
    the label was obtained and the network's reading follow in extra columns."""
    out = csv.writer(file, lineterminator="\n")
    out.writerow(CSV_HEADER + (DETAIL_COLUMNS if details else []))
    for d in drawings:
        row = [d.label] + as_bytes(d.pixels).ravel().tolist()
        if details:
            row += [d.student, d.label_source, "" if d.predicted is None else d.predicted,
                    "" if d.confidence is None else f"{d.confidence:.4f}"]
        out.writerow(row)


def csv_bytes(drawings, details=False):
    text = io.StringIO()
    write_csv(drawings, text, details)
    return text.getvalue().encode()


def zip_bytes(drawings, canvas_png):
    """A zip of every drawing as PNGs (the 28x28 input, and the canvas when
    kept) with labels.csv saying which is which; canvas_png(id) gives a
    drawing's canvas PNG or None."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        labels = io.StringIO()
        out = csv.writer(labels, lineterminator="\n")
        out.writerow(["file", "canvas", "label", "source", "predicted", "writer"])
        for d in drawings:
            name = f"{d.id:06d}-{d.label}.png"
            small = io.BytesIO()
            Image.fromarray(as_bytes(d.pixels)).save(small, format="PNG")
            archive.writestr(f"28x28/{name}", small.getvalue())
            png = canvas_png(d.id)
            if png is not None:
                archive.writestr(f"canvas/{name}", png)
            out.writerow([f"28x28/{name}", f"canvas/{name}" if png is not None else "", d.label,
                          d.label_source, "" if d.predicted is None else d.predicted, d.student])
        archive.writestr("labels.csv", labels.getvalue())
    return buffer.getvalue()


def parse_duration(text):
    """'30d', '12h', '90m' or '45s' in seconds."""
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    text = str(text).strip().lower()
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit():
        raise UserError(f"expected a duration such as 30d, 12h or 90m, got {text!r}")
    return int(text[:-1]) * units[text[-1]]


MIN_TRAINING_DRAWINGS = 20   # fewer is no data set to learn from


def class_digits(drawings, code):
    """A class's drawings as Digits, the Train page's data; UserError when
    there are too few to learn from."""
    if len(drawings) < MIN_TRAINING_DRAWINGS:
        raise UserError(f"class {code} has {len(drawings)} drawings: at least {MIN_TRAINING_DRAWINGS} are "
                        "needed to learn from")
    images = np.stack([as_bytes(d.pixels) for d in drawings])
    labels = np.array([d.label for d in drawings], dtype=np.int64)
    return Digits(images, labels, f"class {code} ({len(drawings)} drawings)")
