"""File helpers shared by every writer: atomic replacement and content hashes."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_atomically(path: str | Path, write: Callable[[Path], object], suffix: str = "") -> Path:
    """Call `write(tmp)` on a temporary name beside `path`, then rename it over `path`, so
    readers never see a half-written file. `suffix` keeps the extension writers key on
    (e.g. '.npz', '.png')."""
    path = Path(path)
    tmp = path.with_name(f"{path.name}.tmp{suffix}")
    write(tmp)
    tmp.replace(path)
    return path
