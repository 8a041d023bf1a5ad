"""Atomic file writes: a crashed job never leaves a file that looks complete.

Files get the permissions of an ordinary ``open``: 0666 less the user's umask. ``mkstemp`` alone
would create them 0600, so on a shared cluster the group could not read results/ or figures/.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary file beside ``path`` to write to; it replaces ``path`` when the block ends
    without an error and is removed otherwise. ``suffix`` keeps an extension that a writer reads
    the format from (matplotlib)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
        os.close(fd)
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, then rename it into place."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def atomic_write_json(path: str | Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")


def atomic_save_npy(path: str | Path, array: np.ndarray) -> None:
    with atomic_path(path) as tmp, tmp.open("wb") as f:
        np.save(f, array)
