"""Model files: one .npz per model, weights plus JSON metadata.

The file holds one float32 array per layer parameter ("0.W", "0.b", ...)
and a "metadata" string: architecture, training recipe, history, data,
metrics, creation time and format version.  It is written without pickle
and read with allow_pickle=False, and every shape, dtype and field is
checked on the way in, so a truncated, corrupt or hostile file gives one
clear ModelFileError and never runs anything.
"""

import contextlib
import io
import json
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .errors import UserError
from .files import data_dir, write_atomically
from .model import ArchitectureError, Network

FORMAT = "digits-network"
FORMAT_VERSION = 1
MAX_FILE_BYTES = 50 * 1024 * 1024
SHIPPED_DIR = Path(__file__).resolve().parent.parent / "models"
SHIPPED = {"default": "Default (shipped)", "seed": "Seed recipe 784-10-10 (shipped)"}
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}")


class ModelFileError(UserError):
    """A model file, or a model's name, that cannot be used; str(e) is one line for the user."""


def validate_model_name(name: str | None) -> str:
    """A user's model name, stripped; ModelFileError if it could escape the
    models folder or would not make a sensible file name."""
    name = (name or "").strip()
    if not name:
        raise ModelFileError("give the model a name")
    if "/" in name or "\\" in name or ".." in name or not NAME_PATTERN.fullmatch(name):
        raise ModelFileError("a model name is 1 to 64 letters, digits, spaces, '_', '-' or '.', "
                         "starting with a letter or digit (no '/', no '..')")
    if name in SHIPPED:
        raise ModelFileError(f"“{name}” is the name of a shipped model; choose another")
    return name


def user_models_dir() -> Path:
    return data_dir() / "models"


def model_path(name: str) -> Path:
    """Where a model of this name lives: the shipped ones in models/, the
    users' in data/models/."""
    if name in SHIPPED:
        return SHIPPED_DIR / f"{name}.npz"
    return user_models_dir() / f"{validate_model_name(name)}.npz"


def list_models() -> dict[str, Path]:
    """{name: path} of the shipped models, then the users' saved ones."""
    found = {name: SHIPPED_DIR / f"{name}.npz" for name in SHIPPED if (SHIPPED_DIR / f"{name}.npz").exists()}
    folder = user_models_dir()
    if folder.is_dir():
        for path in sorted(folder.glob("*.npz")):
            found.setdefault(path.stem, path)
    return found


def save_model(net: Network, path: str | Path, metadata: dict | None = None, overwrite: bool = True) -> Path:
    """Write net and its metadata to path atomically (temporary file, then rename)."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"a model named {path.stem!r} exists already")
    meta = dict(metadata or {})
    meta.update(format=FORMAT, format_version=FORMAT_VERSION, architecture=net.arch,
                description=net.describe(), n_params=int(net.n_params))
    meta.setdefault("created", datetime.now(UTC).isoformat(timespec="seconds"))
    arrays = {f"{i}.{name}": array for i, layer in enumerate(net.layers) for name, array in layer.params.items()}
    arrays["metadata"] = np.array(json.dumps(meta))
    write_atomically(path, lambda file: np.savez(file, **arrays))
    net.metadata = meta
    return path


def load_model(source: str | Path | bytes, label: str | None = None) -> Network:
    """The Network stored in source (a path, or the bytes of an uploaded
    file), with its metadata as `net.metadata`."""
    file: Path | io.BytesIO
    if isinstance(source, (bytes, bytearray)):
        label = label or "uploaded file"
        size, file = len(source), io.BytesIO(source)
    else:
        file = Path(source)
        label = label or file.name
        try:
            size = file.stat().st_size
        except OSError:
            raise ModelFileError(f"{label}: no such model file") from None
    if size > MAX_FILE_BYTES:
        raise ModelFileError(f"{label}: {size / 1e6:.0f} MB is too large for a model file")
    head = _first_bytes(file, 4)
    if head != b"PK\x03\x04":
        raise ModelFileError(f"{label}: not a model file (not an .npz archive)")
    try:
        # Opened here, not by np.load: it leaves its own handle open when the archive is damaged.
        with _opened(file) as opened, np.load(opened, allow_pickle=False) as stored:
            arrays = {key: stored[key] for key in stored.files}
    except ValueError as error:
        if "pickle" in str(error):
            raise ModelFileError(f"{label}: holds Python objects, which this app never unpickles") from None
        raise ModelFileError(f"{label}: not a readable model file ({_first_line(error)})") from None
    except (zipfile.BadZipFile, OSError, EOFError, KeyError) as error:
        raise ModelFileError(f"{label}: damaged or truncated model file ({_first_line(error)})") from None
    return network_from_arrays(arrays, label)


def network_from_arrays(arrays: dict[str, np.ndarray], label: str) -> Network:
    """Check the arrays of a model file and build its Network."""
    meta = _read_metadata(arrays, label)
    try:
        net = Network(meta["architecture"])
    except ArchitectureError as error:
        raise ModelFileError(f"{label}: bad architecture: {error}") from None
    expected = {f"{i}.{name}": array for i, layer in enumerate(net.layers) for name, array in layer.params.items()}
    extra = set(arrays) - set(expected) - {"metadata"}
    missing = set(expected) - set(arrays)
    if missing or extra:
        raise ModelFileError(f"{label}: weights do not match the architecture "
                             f"(missing {sorted(missing) or 'none'}, unexpected {sorted(extra) or 'none'})")
    for key, target in expected.items():
        array = arrays[key]
        if array.dtype != np.float32 or array.shape != target.shape:
            raise ModelFileError(f"{label}: {key} is {array.dtype} {array.shape}, expected float32 {target.shape}")
        if not np.all(np.isfinite(array)):
            raise ModelFileError(f"{label}: {key} holds NaN or infinite weights")
        target[...] = array
    net.metadata = meta
    return net


def input_blur(net: Network) -> float:
    """How much this model wants drawings softened (see TrainConfig.input_blur)."""
    blur = getattr(net, "metadata", {}).get("config", {}).get("input_blur", 0.0)
    return float(blur) if isinstance(blur, (int, float)) and 0 <= blur <= 3 else 0.0


def _read_metadata(arrays, label):
    raw = arrays.get("metadata")
    if raw is None or raw.shape != () or raw.dtype.kind != "U":
        raise ModelFileError(f"{label}: not a model file (no metadata)")
    try:
        meta = json.loads(str(raw))
    except json.JSONDecodeError:
        raise ModelFileError(f"{label}: metadata is not valid JSON") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{label}: not a model file of this app")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(f"{label}: model format version {meta.get('format_version')!r}; "
                             f"this app reads version {FORMAT_VERSION}")
    if not isinstance(meta.get("architecture"), dict):
        raise ModelFileError(f"{label}: metadata has no architecture")
    return meta


def _opened(source):
    """A binary file to read: the upload itself, or the file at a path."""
    return contextlib.nullcontext(source) if isinstance(source, io.BytesIO) else source.open("rb")


def _first_bytes(source, n):
    if isinstance(source, io.BytesIO):
        return source.getvalue()[:n]
    with source.open("rb") as f:
        return f.read(n)


def _first_line(error):
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__
