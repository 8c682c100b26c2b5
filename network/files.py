"""Where the app keeps its files, and how it writes them without ever
leaving half a file behind."""

import gzip
import os
import re
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from .errors import DataError


def data_dir() -> Path:
    """Where datasets, saved models and drawings live.

    $NETWORK_DATA_DIR if set, else the data/ folder next to the network package.
    """
    configured = os.environ.get("NETWORK_DATA_DIR")
    if configured:
        return Path(configured).expanduser()
    return Path(__file__).resolve().parent.parent / "data"


def shown(path: str | Path) -> str:
    """A path as the user would type it: relative to the working directory if inside it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# write_atomically's temporaries: ".NAME." + mkstemp's random characters + ".tmp"
TEMPORARY_NAME = re.compile(r"\..+\.[a-z0-9_]+\.tmp")
STALE_AGE = 600  # seconds: a temporary this old belongs to a process killed mid-write, not a slow one


def remove_stale_temporaries(*folders: Path, age: float = STALE_AGE) -> int:
    """Delete what interrupted writes left in `folders` (default: the data
    folder and its saved models): only write_atomically's temporaries, only
    old ones.  Returns how many were removed."""
    folders = folders or (data_dir(), data_dir() / "models")
    removed = 0
    for folder in folders:
        try:
            candidates = [p for p in Path(folder).iterdir() if TEMPORARY_NAME.fullmatch(p.name)]
        except OSError:
            continue  # no such folder yet
        for leftover in candidates:
            try:
                if leftover.is_file() and time.time() - leftover.stat().st_mtime > age:
                    leftover.unlink()
                    removed += 1
            except OSError:
                pass  # gone already, or not ours to delete
    return removed


def write_atomically(path: Path, write: Callable[[BinaryIO], object],
                     check: Callable[[Path], object] | None = None) -> Path:
    """Fill a temporary file beside `path` with write(file), check(temporary)
    it if asked, then rename it into place.

    os.replace is atomic, so readers see the old file or the new one, never
    half a file, even if this process dies mid-write.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
        if check is not None:
            check(temporary)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; these files are meant to be read
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def gunzip(raw: bytes, name: str) -> bytes:
    """The decompressed bytes, or DataError naming the file."""
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(f"{name}: damaged gzip data ({error})") from None
