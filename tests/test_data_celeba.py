"""CelebA: the balanced-subset rule on a hand-made attribute table, parsing, and image loading."""

import numpy as np
import pytest
import torch
from PIL import Image

from ganem import data
from ganem.data import celeba

A = {name: i for i, name in enumerate(data.CELEBA_ATTRIBUTES)}


def table():
    """8 images, every attribute -1 except:
    row:        0  1  2  3  4  5  6  7
    Eyeglasses  -  +  -  -  +  -  +  -
    Male        -  +  +  +  +  +  -  -
    Smiling     -  +  -  +  -  -  -  -
    Young       +  +  +  -  +  +  +  -
    """
    t = -np.ones((8, 40), np.int8)
    t[[1, 4, 6], A["Eyeglasses"]] = 1
    t[[1, 2, 3, 4, 5], A["Male"]] = 1
    t[[1, 3], A["Smiling"]] = 1
    t[[0, 1, 2, 4, 5, 6], A["Young"]] = 1
    return t


def test_balanced_rule_by_hand():
    # Eyeglasses: 3 positives (minority) -> n = 3, rows 1, 4, 6.
    # Profile of the other 39 over rows 1, 4, 6: Male + (2 of 3), Smiling - (1 of 3), Young +,
    # the rest -. Negatives score 39 minus disagreements: row 0 38 (Male), row 2 39, row 3 37
    # (Smiling, Young), row 5 39, row 7 37 (Male, Young) -> rows 2, 5, then 0.
    rows, y = celeba.balanced_selection(table(), A["Eyeglasses"], max_per_class=12_000)
    assert rows.tolist() == [0, 1, 2, 4, 5, 6]
    assert y.tolist() == [0, 1, 0, 1, 0, 1]


def test_cap_takes_first_minority_images_and_ties_go_to_minus():
    # Cap 2: rows 1, 4. Smiling is 1 of 2 (tie -> -), so the profile is unchanged: rows 2, 5.
    rows, y = celeba.balanced_selection(table(), A["Eyeglasses"], max_per_class=2)
    assert rows.tolist() == [1, 2, 4, 5] and y.tolist() == [1, 0, 1, 0]


def test_minority_can_be_the_absent_side():
    # Young: 6 present, 2 absent (rows 3, 7) -> minority = absent. Profile over rows 3, 7: Male,
    # Smiling tie (-), all others -. Present rows score 39 minus their + values: row 0 39, rows
    # 2, 5, 6 38, row 4 37, row 1 36 -> row 0, then row 2 (first of the tie in file order).
    rows, y = celeba.balanced_selection(table(), A["Young"], max_per_class=12_000)
    assert rows.tolist() == [0, 2, 3, 7] and y.tolist() == [1, 1, 0, 0]


def test_attribute_with_one_side_empty_is_refused():
    with pytest.raises(data.DataError, match="Bald has 0 positive"):
        celeba.balanced_selection(table(), A["Bald"], max_per_class=10)


def write_celeba(root, attrs, register_md5=None):
    """A tiny CelebA in torchvision's layout: 178x218 JPEGs, red border, blue 140x140 centre."""
    folder = root / "celeba"
    (folder / "img_align_celeba").mkdir(parents=True)
    names = [f"{i + 1:06d}.jpg" for i in range(len(attrs))]
    for name in names:
        im = Image.new("RGB", (178, 218), (255, 0, 0))
        im.paste((0, 0, 255), (19, 39, 159, 179))
        im.save(folder / "img_align_celeba" / name, quality=95)
    lines = [str(len(attrs)), " ".join(data.CELEBA_ATTRIBUTES) + " "]
    lines += [
        f"{n} " + " ".join(f"{v:2d}" for v in row) for n, row in zip(names, attrs, strict=True)
    ]
    content = ("\n".join(lines) + "\n").encode()
    (folder / "list_attr_celeba.txt").write_bytes(content)
    if register_md5:
        register_md5("celeba", "list_attr_celeba.txt", content)
    return folder


def test_load_decodes_selected_images_only(tmp_path, register_md5):
    folder = write_celeba(tmp_path, table(), register_md5)
    (folder / "img_align_celeba/000004.jpg").unlink()  # row 3 is not selected for Eyeglasses
    s = data.load("celeba-Eyeglasses", "all", tmp_path)
    assert s.x.shape == (6, 3, 64, 64) and s.x.dtype == torch.float32
    assert s.y.tolist() == [0, 1, 0, 1, 0, 1]
    assert (s.n_classes, s.name, s.split, s.value_range) == (
        2,
        "celeba-Eyeglasses",
        "all",
        (-1.0, 1.0),
    )
    assert -1.0 <= float(s.x.min()) and float(s.x.max()) <= 1.0
    # the centre crop keeps the blue face region and drops the red border
    mean_rgb = s.x.mean(dim=(0, 2, 3))
    assert mean_rgb[2] > 0.9 and mean_rgb[0] < -0.9
    assert data.splits("celeba-Eyeglasses") == ("all",)
    # a smaller cap reaches load as a keyword argument
    assert len(data.load("celeba-Eyeglasses", "all", tmp_path, celeba_max_per_class=2).y) == 4


def test_missing_selected_image_refused_before_decoding(tmp_path, register_md5):
    folder = write_celeba(tmp_path, table(), register_md5)
    (folder / "img_align_celeba/000002.jpg").unlink()
    with pytest.raises(data.DataError, match=r"1 of the 6 selected images are missing") as err:
        data.load("celeba-Eyeglasses", "all", tmp_path)
    assert "000002.jpg" in str(err.value)


def test_attribute_file_checksum(tmp_path):
    write_celeba(tmp_path, table())
    with pytest.raises(data.DataError, match="75e246fa4810816ffd6ee81facbd244c") as err:
        data.load("celeba-Male", "all", tmp_path)
    assert str(tmp_path / "celeba/list_attr_celeba.txt") in str(err.value)


def test_missing_celeba_names_both_files_and_the_fix(tmp_path):
    with pytest.raises(data.DataError) as err:
        data.load("celeba-Male", "all", tmp_path)
    msg = str(err.value)
    assert "list_attr_celeba.txt" in msg and "img_align_celeba" in msg
    assert "snakemake --cores 1 data/manifests/celeba-Male.json" in msg


def test_fetch_manifest_checks_every_listed_image(tmp_path, register_md5):
    folder = write_celeba(tmp_path, table(), register_md5)
    manifest = data.fetch("celeba-Male", tmp_path, download=False)
    image_entry = manifest["files"][-1]
    assert image_entry["n_images"] == 8 and manifest["downloaded"] is False
    (folder / "img_align_celeba/000008.jpg").unlink()
    with pytest.raises(data.DataError, match="lacks 1 of the 8 images"):
        data.fetch("celeba-Male", tmp_path, download=False)


def test_malformed_attribute_file_refused(tmp_path, register_md5):
    folder = write_celeba(tmp_path, table())
    path = folder / "list_attr_celeba.txt"
    content = path.read_bytes().replace(b"8\n", b"9\n", 1)  # announces one image too many
    path.write_bytes(content)
    register_md5("celeba", "list_attr_celeba.txt", content)
    with pytest.raises(data.DataError, match=r"announces 9 images but holds 328 fields"):
        data.load("celeba-Male", "all", tmp_path)
