"""People's drawings as something to learn from: who drew each one, and an
honest split into drawings to learn from and drawings to judge on.

A gain measured on drawings by the same hand the network just learnt from
says little about the next person, so the split is by writer: every
drawing of one writer (a class's anonymous student id, or the session id
of "Was I wrong?" corrections) lands on the same side.
"""

import csv
import io
from dataclasses import dataclass

import numpy as np

from .csvfile import CSV_COLUMNS, _decode, _read_limited, load_csv
from .digits import Digits
from .errors import DataError

MIN_HELD_OUT = 20          # fewer held-out drawings than this prove nothing
HELD_OUT_SHARE = 0.3       # the share of drawings (whole writers) kept to judge on
WRITER_COLUMN = "writer"
MAX_CSV_BYTES = 200 * 1024 * 1024
SOURCES_HELP = "'all', 'mine', 'class:CODE' or a CSV file"


@dataclass(frozen=True)
class DrawingSet:
    """Labelled drawings (uint8 (N, 28, 28), ink high) and who drew each."""

    digits: Digits
    writers: np.ndarray    # (N,) str: one id per writer

    def __len__(self):
        return len(self.digits)

    def subset(self, mask) -> "DrawingSet":
        return DrawingSet(self.digits.subset(mask), self.writers[mask])

    def counts(self) -> list[int]:
        """How many drawings of each digit 0-9."""
        return np.bincount(self.digits.labels, minlength=10).tolist()


@dataclass(frozen=True)
class WriterSplit:
    """Drawings to learn from, and held-out drawings by other writers."""

    train: DrawingSet
    held_out: DrawingSet
    how: str    # in words, for the report

    def shortfall(self) -> int:
        """How many more held-out drawings a claim of a gain needs (0: enough)."""
        return max(0, MIN_HELD_OUT - len(self.held_out))


def split_by_writer(drawings: DrawingSet, held_out_share: float = HELD_OUT_SHARE, seed: int = 0) -> WriterSplit:
    """Whole writers, in a random order fixed by the seed, go to the
    held-out side until it holds `held_out_share` of the drawings.

    With one writer only there is nobody else to judge on: that writer's
    later drawings (in the order given, oldest first) are held out, and
    `how` says so.
    """
    writers = np.unique(drawings.writers)
    if len(writers) < 2:
        cut = len(drawings) - round(len(drawings) * held_out_share)
        order = np.arange(len(drawings))
        return WriterSplit(drawings.subset(order < cut), drawings.subset(order >= cut),
                           "one writer only: the later drawings are held out (same hand, so an optimistic test)")
    rng = np.random.default_rng(seed)
    held: list[str] = []
    share = 0
    for writer in rng.permutation(writers):
        if share >= held_out_share * len(drawings) or len(held) == len(writers) - 1:
            break
        held.append(writer)
        share += int(np.sum(drawings.writers == writer))
    is_held = np.isin(drawings.writers, held)
    return WriterSplit(drawings.subset(~is_held), drawings.subset(is_held),
                       f"by writer: {len(writers) - len(held)} writers to learn from, {len(held)} held out")


def from_store(store, which: str) -> DrawingSet:
    """'all' drawings in the store, 'mine' (the "Was I wrong?" corrections
    made outside any class) or 'class:CODE' (a class's drawings)."""
    if which == "mine":
        found = [(None, d) for d in store.drawings(None)]
        name = "corrections outside any class"
    elif which == "all":
        found = store.every_drawing()
        name = "every stored drawing"
    elif which.startswith("class:"):
        info = store.find_class(which.removeprefix("class:"))
        found = [(info.code, d) for d in store.drawings(info.code)]
        name = f"class {info.code}"
    else:
        raise DataError(f"unknown drawings {which!r}: give {SOURCES_HELP}")
    if not found:
        raise DataError(f"there are no drawings in {name} yet: correct some on the Draw page first")
    images = np.stack([(d.pixels * 255).round().astype(np.uint8) for _, d in found])
    labels = np.array([d.label for _, d in found], dtype=np.int64)
    return DrawingSet(Digits(images, labels, f"{len(found)} drawings: {name}"),
                      np.array([writer_id(code, d) for code, d in found]))


def writer_id(class_code, drawing) -> str:
    """Who drew it: the class and student id, or a correction's session id.
    Corrections kept before sessions were recorded have none: those of one
    hour count as one writer (most likely one person trying the app)."""
    if drawing.student:
        return f"{class_code or ''}:{drawing.student}"
    return f"{class_code or ''}:hour {int(drawing.created // 3600)}"


def from_csv(source) -> DrawingSet:
    """Drawings in a Kaggle-format CSV (`label,pixel0..pixel783`), with an
    optional `writer` column after the pixels (as `class export --details`
    writes); without it, every row counts as its own writer."""
    name, data = _read_limited(source, MAX_CSV_BYTES)
    lines = _decode(data, name).rstrip("\r\n").split("\n")
    header = [column.strip() for column in next(csv.reader([lines[0].rstrip("\r")]), [])]
    # The pixels go through the one checked CSV reader; the columns after them are read here.
    cut = len(CSV_COLUMNS)
    pixels_only = "\n".join(",".join(line.rstrip("\r").split(",", cut)[:cut]) for line in lines)
    digits = load_csv(_named(pixels_only.encode(), name))
    writers = [f"row {i}" for i in range(len(digits))]
    if WRITER_COLUMN in header[cut:]:
        column = header.index(WRITER_COLUMN)
        for i, row in enumerate(csv.reader(lines[1:])):
            if len(row) > column and row[column].strip():
                writers[i] = row[column].strip()[:64]
    return DrawingSet(digits, np.array(writers))


def _named(data: bytes, name: str) -> io.BytesIO:
    file = io.BytesIO(data)
    file.name = name
    return file
