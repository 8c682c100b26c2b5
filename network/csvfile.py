"""Kaggle digit-recognizer CSVs: label,pixel0,...,pixel783, checked cell by cell."""

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from .digits import Digits
from .errors import DataError
from .shapes import PIXELS, SIDE

CSV_COLUMNS = ["label"] + [f"pixel{i}" for i in range(PIXELS)]
CSV_MIN_ROWS = 10
MAX_HEADER_CHARS = 20_000
CHUNK_ROWS = 2000  # rows parsed at a time (6 MB as int32)


def load_csv(path, require_labels=True, max_bytes=200 * 1024 * 1024) -> Digits:
    """Digits from a Kaggle digit-recognizer CSV, checked cell by cell.

    The header is `label,pixel0,...,pixel783` (train.csv), or just the pixel
    columns for unlabelled data (test.csv; labels become -1, and such a file
    is refused when require_labels is true).  path may also be a binary file
    object with a .name, such as an upload.  Every problem raises DataError
    naming the file, the row and the column.
    """
    name, data = _read_limited(path, max_bytes)
    digits = _read_clean_file(data, name, require_labels)
    if digits is not None:
        return digits
    text = _decode(data, name)
    # Trailing blank lines are harmless; ones between rows are reported below.
    lines = text.rstrip("\r\n").split("\n")
    if lines == [""]:
        raise DataError(f"{name}: the file is empty")

    columns = _parse_header(lines[0], name)
    labelled = columns[0] == "label"
    if require_labels and not labelled:
        raise DataError(f"{name}: has no label column, but training needs labels "
                        "(expected the header label,pixel0,...,pixel783)")
    rows = len(lines) - 1
    if rows < CSV_MIN_ROWS:
        raise DataError(f"{name}: only {rows} data rows, need at least {CSV_MIN_ROWS}")

    return _digits(_read_cells(lines, columns, name), labelled, name)


def _digits(values, labelled, name):
    rows = len(values)
    pixels = values[:, 1:] if labelled else values
    labels = values[:, 0] if labelled else np.full(rows, -1)
    return Digits(pixels.astype(np.uint8).reshape(-1, SIDE, SIDE), labels.astype(np.int64),
                  f"CSV {name} ({rows} rows{'' if labelled else ', unlabelled'})")


def _read_clean_file(data, name, require_labels):
    """The common case, a clean file, parsed straight from its bytes into
    uint8, a chunk of rows at a time: the memory it takes is the file's and
    the digits', not several copies of the text.  None for anything
    unusual, which the careful path then reads again to say what is wrong."""
    end = len(data)
    while end and data[end - 1] in b"\r\n":
        end -= 1
    header_end = data.find(b"\n", 0, end)
    if b"\x00" in data or not 0 < header_end <= MAX_HEADER_CHARS or end < len(data) - 2:
        return None
    try:
        columns = _parse_header(data[:header_end].decode("utf-8").removeprefix("\ufeff"), name)
    except (UnicodeDecodeError, DataError):
        return None
    labelled = columns[0] == "label"
    rows = data.count(b"\n", header_end + 1, end) + 1
    if (require_labels and not labelled) or rows < CSV_MIN_ROWS:
        return None
    high = np.full(len(columns), 255)
    high[0] = 9 if labelled else 255
    values = np.empty((rows, len(columns)), dtype=np.uint8)
    done = 0
    try:
        for chunk in pd.read_csv(io.BytesIO(data), dtype=np.int32, na_filter=False, skip_blank_lines=False,
                                 encoding="utf-8-sig", chunksize=CHUNK_ROWS):
            block = chunk.to_numpy()
            if block.shape[1] != len(columns) or done + len(block) > rows or not ((block >= 0) & (block <= high)).all():
                return None
            values[done:done + len(block)] = block
            done += len(block)
    except (ValueError, OverflowError, pd.errors.ParserError):
        return None
    return _digits(values, labelled, name) if done == rows else None


def _read_limited(path, max_bytes):
    """(name for messages, the file's bytes), refusing files over max_bytes."""
    if hasattr(path, "read"):
        name = Path(getattr(path, "name", "uploaded file")).name
        data = path.read(max_bytes + 1)
        size = len(data)
    else:
        path = Path(path)
        name = path.name
        if not path.is_file():
            raise DataError(f"{name}: file not found ({path})")
        size = path.stat().st_size
        data = path.read_bytes() if size <= max_bytes else b""
    if size > max_bytes:
        raise DataError(f"{name}: larger than the limit of {max_bytes / 1024 ** 2:.0f} MB")
    return name, data


def _decode(data, name):
    if b"\x00" in data:
        raise DataError(f"{name}: not a text CSV file (it contains binary data)")
    try:
        return data.decode("utf-8").removeprefix("\ufeff")  # a BOM from Excel
    except UnicodeDecodeError as error:
        raise DataError(f"{name}: not a text CSV file (byte {error.start} is not UTF-8 text)") from None


def _parse_header(line, name):
    """The column names: all 785 of CSV_COLUMNS, or the 784 pixel columns."""
    if len(line) > MAX_HEADER_CHARS:  # csv.reader would fail on a field over 128 KB
        raise DataError(f"{name}, line 1: {len(line):,} characters long; the header "
                        f"label,pixel0,...,pixel783 has about {len(','.join(CSV_COLUMNS)):,}")
    try:
        columns = [column.strip() for column in next(csv.reader([line.rstrip("\r")]))]
    except csv.Error as error:
        raise DataError(f"{name}, line 1: not a CSV header ({error})") from None
    expected = "label,pixel0,...,pixel783"
    if columns and columns[0].lstrip("+-").isdigit():
        raise DataError(f"{name}, line 1: no header row (expected {expected}, got {_clip(line)!r})")
    wanted = CSV_COLUMNS if columns[:1] == ["label"] else CSV_COLUMNS[1:]
    if len(columns) != len(wanted):
        raise DataError(f"{name}, line 1: the header has {len(columns)} columns, expected "
                        f"{len(CSV_COLUMNS)} ({expected}) or {PIXELS} without label")
    for position, (found, want) in enumerate(zip(columns, wanted), start=1):
        if found != want:
            raise DataError(f"{name}, line 1: header column {position} is {found!r}, expected {want!r}")
    return wanted


def _read_cells(lines, columns, name):
    """The data rows as an int32 array, or DataError at the first bad cell.

    The fast path parses every cell as an integer in C and checks ranges with
    NumPy.  Only when that fails do we look closer, to name the culprit:
    first for rows of the wrong length, then, reading odd columns as
    strings, for the first cell that is not an integer in range.
    """
    body = "\n".join(lines)
    high = np.full(len(columns), 255)
    if columns[0] == "label":
        high[0] = 9
    try:
        values = pd.read_csv(io.StringIO(body), dtype=np.int32, na_filter=False,
                             skip_blank_lines=False).to_numpy()
        if ((values >= 0) & (values <= high)).all():
            return values
    except (ValueError, OverflowError, pd.errors.ParserError):
        pass

    for row, line in enumerate(lines[1:]):
        count = len(line.split(","))
        if count != len(columns):
            raise DataError(f"{name}, row {row + 1} (line {row + 2}): has {count} values, "
                            f"expected {len(columns)}")
    try:
        # Without dtypes pandas types each column itself: columns of clean
        # integers stay fast, and only the odd ones hold strings to examine.
        frame = pd.read_csv(io.StringIO(body), na_filter=False, skip_blank_lines=False,
                            low_memory=False)
    except (ValueError, pd.errors.ParserError) as error:
        raise DataError(f"{name}: cannot be read as CSV ({_clip(str(error), 80)})") from None
    first_bad = None  # (row, column) of the earliest bad cell, in reading order
    for column in range(len(columns)):
        cells = frame.iloc[:, column]
        if cells.dtype.kind in "iu":
            numbers = cells.to_numpy()
        else:
            numbers = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=float)
        good = (numbers == np.round(numbers)) & (numbers >= 0) & (numbers <= high[column])
        if not good.all():  # NaN, from a cell that is not a number, is never good
            candidate = (int(np.argmin(good)), column)
            first_bad = min(first_bad or candidate, candidate)
    if first_bad is None:  # should not happen: the fast path failed for a reason
        raise DataError(f"{name}: cannot be read as integers")
    row, column = first_bad
    cell = lines[row + 1].split(",")[column].strip().strip('"')
    raise DataError(f"{name}, row {row + 1} (line {row + 2}), column {columns[column]}: "
                    f"expected an integer 0..{high[column]}, got {_clip(cell)!r}")


def _clip(text, limit=40):
    return text if len(text) <= limit else text[:limit] + "..."


# ---------------------------------------------------------------------------
# Splits
