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
import math
import re
import zipfile
import zlib
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .budgets import (
    MAX_JSON_DEPTH,
    MAX_METADATA_CHARS,
    MAX_MODEL_LAYERS,
    MAX_MODEL_PARAMS,
    BudgetError,
    check_model_size,
    json_depth,
    layer_shapes,
)
from .errors import UserError
from .files import data_dir, write_atomically
from .model import ArchitectureError, Network

FORMAT = "digits-network"
FORMAT_VERSION = 1
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_SAVED_BYTES = 500e6  # the users' saved models, all together (stored compressed)
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


def saved_models_bytes() -> int:
    """Disk space the users' saved models take (those saved in classes too)."""
    folder = user_models_dir()
    return sum(path.stat().st_size for path in folder.rglob("*.npz")) if folder.is_dir() else 0


def check_models_quota(max_bytes: float | None = None) -> None:
    """ModelFileError when the users' saved models fill their share of the
    server's disk (the app checks before saving; the command line does not)."""
    used = saved_models_bytes()
    if used >= (MAX_SAVED_BYTES if max_bytes is None else max_bytes):
        raise ModelFileError(f"the server's space for saved models is full ({used / 1e6:,.0f} MB); "
                             "ask its administrator to remove some")


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
    write_atomically(path, lambda file: np.savez_compressed(file, **arrays))
    net.metadata = meta
    return path


def load_model(source: str | Path | bytes, label: str | None = None) -> Network:
    """The Network stored in source (a path, or the bytes of an uploaded
    file), with its metadata as `net.metadata`.

    Nothing is built or inflated before it is known to fit: the members'
    sizes come from the zip's directory, the arrays' names, shapes and
    dtypes from their .npy headers, and the architecture they must match
    from the metadata, all checked against the budgets (budgets.py) first.
    """
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
    try:
        with _opened(file) as opened:
            if opened.read(4) != b"PK\x03\x04":
                raise ModelFileError(f"{label}: not a model file (not an .npz archive)")
            opened.seek(0)
            with zipfile.ZipFile(opened) as archive:
                return _read_network(archive, label)
    except BudgetError as error:
        raise ModelFileError(f"{label}: too large for this app: {error}") from None
    except (zipfile.BadZipFile, OSError, EOFError, KeyError, ValueError, zlib.error) as error:
        raise ModelFileError(f"{label}: damaged or truncated model file ({_first_line(error)})") from None


def _read_network(archive: zipfile.ZipFile, label: str) -> Network:
    headers = _array_headers(archive, label)
    meta = _read_metadata(archive, headers, label)
    try:
        layers = layer_shapes(meta["architecture"])
    except ArchitectureError as error:
        raise ModelFileError(f"{label}: bad architecture: {error}") from None
    check_model_size(layers)
    expected = {f"{i}.{name}": shape for i, layer in enumerate(layers) for name, shape in layer.param_shapes.items()}
    extra = set(headers) - set(expected) - {"metadata"}
    missing = set(expected) - set(headers)
    if missing or extra:
        raise ModelFileError(f"{label}: weights do not match the architecture "
                             f"(missing {sorted(missing) or 'none'}, unexpected {sorted(extra) or 'none'})")
    for key, shape in expected.items():
        dtype, found = headers[key]
        if dtype != np.float32 or found != tuple(shape):
            raise ModelFileError(f"{label}: {key} is {dtype} {found}, expected float32 {tuple(shape)}")
    net = Network(meta["architecture"])
    for key, target in ((f"{i}.{name}", array) for i, layer in enumerate(net.layers)
                        for name, array in layer.params.items()):
        with archive.open(f"{key}.npy") as member:
            array = np.lib.format.read_array(member, allow_pickle=False)
        if array.shape != target.shape:
            raise ModelFileError(f"{label}: {key} is damaged (holds fewer numbers than its header says)")
        if not np.all(np.isfinite(array)):
            raise ModelFileError(f"{label}: {key} holds NaN or infinite weights")
        target[...] = array
    net.metadata = meta
    return net


def _array_headers(archive, label):
    """{array name: (dtype, shape)} from each member's .npy header, after
    checking from the zip's directory that nothing inflates beyond the budget."""
    members = archive.infolist()
    if len(members) > 2 * MAX_MODEL_LAYERS + 1:
        raise ModelFileError(f"{label}: {len(members)} arrays is more than any model of this app holds")
    limit = 4 * (MAX_MODEL_PARAMS + MAX_METADATA_CHARS) + 1024 * len(members)  # float32, UTF-32, headers
    total = sum(member.file_size for member in members)
    if total > limit:
        raise ModelFileError(f"{label}: would inflate to {total / 1e6:,.0f} MB; a model file holds at most "
                             f"{limit / 1e6:,.0f} MB")
    headers = {}
    for member in members:
        if not member.filename.endswith(".npy"):
            raise ModelFileError(f"{label}: {member.filename!r} is not an array of a model file")
        with archive.open(member) as file:
            version = np.lib.format.read_magic(file)
            read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                           (2, 0): np.lib.format.read_array_header_2_0}.get(version)
            if read_header is None:
                raise ModelFileError(f"{label}: {member.filename} is in an unknown .npy version {version}")
            shape, _, dtype = read_header(file)
        if dtype.hasobject:
            raise ModelFileError(f"{label}: holds Python objects, which this app never unpickles")
        if int(np.prod(shape, dtype=np.int64)) * dtype.itemsize > member.file_size:
            raise ModelFileError(f"{label}: {member.filename} is damaged (its header claims more than it holds)")
        headers[member.filename.removesuffix(".npy")] = (dtype, tuple(shape))
    return headers


def input_blur(net: Network) -> float:
    """How much this model wants drawings softened (see TrainConfig.input_blur)."""
    blur = getattr(net, "metadata", {}).get("config", {}).get("input_blur", 0.0)
    return float(blur) if isinstance(blur, (int, float)) and 0 <= blur <= 3 else 0.0


def _read_metadata(archive, headers, label):
    dtype, shape = headers.get("metadata", (None, None))
    if dtype is None or shape != () or dtype.kind != "U":
        raise ModelFileError(f"{label}: not a model file (no metadata)")
    if dtype.itemsize > 4 * MAX_METADATA_CHARS:
        raise ModelFileError(f"{label}: its metadata is larger than {MAX_METADATA_CHARS:,} characters")
    with archive.open("metadata.npy") as member:
        text = str(np.lib.format.read_array(member, allow_pickle=False))
    if json_depth(text) > MAX_JSON_DEPTH:
        raise ModelFileError(f"{label}: its metadata nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        meta = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise ModelFileError(f"{label}: metadata is not valid JSON") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{label}: not a model file of this app")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(f"{label}: model format version {meta.get('format_version')!r}; "
                             f"this app reads version {FORMAT_VERSION}")
    if not isinstance(meta.get("architecture"), dict):
        raise ModelFileError(f"{label}: metadata has no architecture")
    problem = metadata_problem(meta)
    if problem:
        raise ModelFileError(f"{label}: bad metadata: {problem}")
    return meta


def metadata_problem(meta: dict) -> str | None:
    """What is wrong with the fields of a model's metadata the app reads, or
    None: a saved model must never break a page that shows it."""
    kinds = {"metrics": dict, "config": dict, "data": dict, "history": list, "description": str, "created": str}
    for key, kind in kinds.items():
        if key in meta and not isinstance(meta[key], kind):
            return f"{key} must be a {kind.__name__}"
    for key, value in meta.get("metrics", {}).items():
        if key.endswith("_accuracy") and value is not None and not _fraction(value):
            return f"metrics.{key} must be a number from 0 to 1"
    return None  # config.input_blur is read leniently, by input_blur()


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _fraction(value):
    return _number(value) and 0 <= value <= 1


def _opened(source):
    """A binary file to read: the upload itself, or the file at a path."""
    return contextlib.nullcontext(source) if isinstance(source, io.BytesIO) else source.open("rb")


def _first_line(error):
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__
