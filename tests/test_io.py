"""Atomic writes create files with the user's umask (mkstemp alone gives 0600: a shared group could
not read results/ or figures/), and a failed write leaves nothing behind."""
from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from ganem.io import atomic_save_npy, atomic_write_json


@pytest.fixture
def umask():
    def set_mask(mask: int) -> None:
        os.umask(mask)

    old = os.umask(0o022)
    os.umask(old)
    yield set_mask
    os.umask(old)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_atomic_files_follow_the_umask(tmp_path, umask, mask, mode):
    umask(mask)
    atomic_write_json(tmp_path / "results" / "metrics.json", {"error": 1.0})
    atomic_save_npy(tmp_path / "results" / "predictions.npy", np.arange(3))
    for name in ("metrics.json", "predictions.npy"):
        assert stat.S_IMODE((tmp_path / "results" / name).stat().st_mode) == mode


def test_a_failed_write_leaves_no_file(tmp_path):
    from ganem.io import atomic_path

    with pytest.raises(RuntimeError), atomic_path(tmp_path / "table.csv") as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash")
    assert list(tmp_path.iterdir()) == []
