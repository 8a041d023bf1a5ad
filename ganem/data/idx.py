"""Reading IDX files (the MNIST / Fashion-MNIST format), gzip-compressed or raw.

Parsed with numpy rather than torchvision so the suite depends on no dataset class internals and
can say exactly what is wrong with a bad file (wrong magic, truncated, trailing bytes).
Format: 4-byte magic (0, 0, type code 0x08 = uint8, number of dims), then one big-endian uint32
per dim, then the uint8 payload. Images: magic 2051, dims (N, 28, 28). Labels: magic 2049, (N,).
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from .base import DataError

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049


def read_content(path: Path) -> bytes:
    """The uncompressed bytes of ``path`` (gunzipped when its name ends in .gz)."""
    data = path.read_bytes()
    if path.suffix != ".gz":
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(
            f"{path} is not a valid gzip file ({exc}); it is corrupt or truncated. "
            f"Delete it and fetch it again."
        ) from exc


def parse(content: bytes, path: Path, magic: int) -> np.ndarray:
    """Decode IDX ``content`` read from ``path``, insisting on ``magic`` and an exact byte size."""
    if len(content) < 4:
        raise DataError(f"{path}: {len(content)} bytes is too short for an IDX header (truncated).")
    found = int.from_bytes(content[:4], "big")
    if found != magic:
        raise DataError(
            f"{path}: IDX magic number {found}, expected {magic} "
            f"({'images' if magic == IMAGES_MAGIC else 'labels'}); wrong or corrupt file."
        )
    ndim = content[3]
    header = 4 + 4 * ndim
    if len(content) < header:
        raise DataError(f"{path}: header cut short ({len(content)} bytes); the file is truncated.")
    dims = tuple(int(d) for d in np.frombuffer(content, ">u4", count=ndim, offset=4))
    expected = header + int(np.prod(dims))
    if len(content) != expected:
        raise DataError(
            f"{path}: header says {dims} -> {expected:,} bytes, the (uncompressed) file has "
            f"{len(content):,} bytes; it is {'truncated' if len(content) < expected else 'padded'}."
        )
    return np.frombuffer(content, np.uint8, offset=header).reshape(dims)
