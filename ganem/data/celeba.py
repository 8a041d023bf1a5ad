"""CelebA, one binary attribute at a time: ``celeba-<Attribute>`` is a class-balanced 2-class set.

Layout (torchvision's): ``data_dir/celeba/img_align_celeba/*.jpg`` and
``data_dir/celeba/list_attr_celeba.txt``; ``data_dir`` itself is searched second, for users who
point at the celeba folder directly.

The paper (Appendix B.3) builds each attribute's set as "all 12k male images, then the same amount
of female images, chosen so that all other attributes keep as much purity as possible", without
the exact rule. Ours (``balanced_selection``), for attribute A:

1. P = images with A (+1), N = images without (-1), both in file order. The minority side is the
   smaller one (P on a tie). n = min(|P|, |N|, max_per_class), max_per_class = 12,000 by default.
2. The minority side contributes its first n images in file order.
3. Reference profile: for each of the other 39 attributes, its majority value within those n
   images (-1 on an exact tie).
4. Each majority-side image scores the number of the 39 attributes on which it equals the
   profile; the n highest scores are taken, ties broken by file order. This maximises the total
   agreement with the profile exactly (the objective is a sum over images), so it is
   deterministic and needs no search.

Labels: 1 = attribute present, 0 = absent. Images: centre crop 140x140 of the 178x218 aligned
face, resized to 64x64 (bilinear), scaled to [-1, 1]. The paper says only "cropped to 64x64";
the crop size is our choice (public CelebA GAN code uses 108, 128 or 140 crops).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from . import checksums
from .base import DataError, ImageSet, fetch_command, missing_files_error, search_dirs, to_float

# fmt: off
ATTRIBUTES = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs",
    "Big_Lips", "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair", "Bushy_Eyebrows",
    "Chubby", "Double_Chin", "Eyeglasses", "Goatee", "Gray_Hair", "Heavy_Makeup",
    "High_Cheekbones", "Male", "Mouth_Slightly_Open", "Mustache", "Narrow_Eyes", "No_Beard",
    "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline", "Rosy_Cheeks", "Sideburns",
    "Smiling", "Straight_Hair", "Wavy_Hair", "Wearing_Earrings", "Wearing_Hat",
    "Wearing_Lipstick", "Wearing_Necklace", "Wearing_Necktie", "Young",
)  # list_attr_celeba.txt order
# fmt: on
SPLITS = ("all",)
MAX_PER_CLASS = 12_000
CROP = 140
SIZE = 64
ATTR_FILE = "list_attr_celeba.txt"
IMAGE_DIR = "img_align_celeba"
ZIP_FILE = "img_align_celeba.zip"
SUBDIRS = ("celeba", "")
MANUAL_FIX = (  # {dir}: the data dir
    "download img_align_celeba.zip and list_attr_celeba.txt from "
    "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html, unzip the images into "
    f"{{dir}}/celeba/{IMAGE_DIR}/ and put {ATTR_FILE} in {{dir}}/celeba/"
)


def locate(name: str, data_dir: Path) -> Path:
    """The folder holding both the attribute list and the image folder."""
    folders = search_dirs(data_dir, SUBDIRS)
    for folder in folders:
        if (folder / ATTR_FILE).is_file() and (folder / IMAGE_DIR).is_dir():
            return folder
    partial = next(
        (f for f in folders if (f / ATTR_FILE).exists() or (f / IMAGE_DIR).exists()), None
    )
    base = partial or folders[0]
    missing = [str(base / n) for n in (ATTR_FILE, IMAGE_DIR + "/") if not (base / n).exists()]
    raise missing_files_error(name, missing, folders, "or " + MANUAL_FIX.format(dir=data_dir))


def read_attributes(name: str, path: Path, data_dir: Path) -> tuple[np.ndarray, np.ndarray, str]:
    """Parse list_attr_celeba.txt -> (image file names, int8 (N, 40) of +1/-1, file md5).

    The md5 is checked first, so a corrupt or different file is refused before parsing.
    """
    data = path.read_bytes()
    md5 = checksums.md5_bytes(data)
    fix = f"delete it and run `{fetch_command(name)}`, or {MANUAL_FIX.format(dir=data_dir)}"
    checksums.check("celeba", ATTR_FILE, md5, path, fix)
    count_line, header, body = data.decode("ascii").split("\n", 2)
    if tuple(header.split()) != ATTRIBUTES:
        raise DataError(f"{name}: {path} line 2 is not the 40 CelebA attribute names. Fix: {fix}")
    count = int(count_line)
    tokens = body.split()
    if len(tokens) != count * 41:
        raise DataError(
            f"{name}: {path} announces {count} images but holds {len(tokens)} fields "
            f"(expected {count} x 41). Fix: {fix}"
        )
    # Compare strings in an object array: a few s for the real 8.3M fields (int parsing: ~15 s).
    table = np.array(tokens, dtype=object).reshape(count, 41)
    present, absent = table[:, 1:] == "1", table[:, 1:] == "-1"
    if not (present | absent).all():
        raise DataError(f"{name}: {path} has attribute values other than 1/-1. Fix: {fix}")
    return table[:, 0].astype(str), np.where(present, 1, -1).astype(np.int8), md5


@functools.lru_cache(maxsize=4)
def _attribute_table(name: str, path: Path, data_dir: Path) -> np.ndarray:
    return read_attributes(name, path, data_dir)[1]


def class_size(name: str, folder: Path, data_dir: Path, attribute: str, max_per_class: int) -> int:
    """n of the balanced set (n images per class), from the attribute list alone (no image decoded);
    the file is read once per process for all attributes."""
    attrs = _attribute_table("celeba", folder / ATTR_FILE, data_dir)
    present = int((attrs[:, ATTRIBUTES.index(attribute)] == 1).sum())
    return min(present, len(attrs) - present, max_per_class)


def balanced_selection(
    attrs: np.ndarray, attribute: int, max_per_class: int
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (sorted) and labels (1 = present) of the balanced set; rule in module doc."""
    present = attrs[:, attribute] == 1
    pos, neg = np.flatnonzero(present), np.flatnonzero(~present)
    minority, majority = (pos, neg) if len(pos) <= len(neg) else (neg, pos)
    n = min(len(pos), len(neg), max_per_class)
    if n < 1:
        raise DataError(
            f"CelebA attribute {ATTRIBUTES[attribute]} has {len(pos)} positive and {len(neg)} "
            f"negative images (max_per_class {max_per_class}); cannot build a balanced set."
        )
    chosen_minority = minority[:n]
    others = np.delete(np.arange(attrs.shape[1]), attribute)
    profile = np.where(attrs[np.ix_(chosen_minority, others)].sum(axis=0) > 0, 1, -1)
    score = (attrs[np.ix_(majority, others)] == profile).sum(axis=1)
    chosen_majority = majority[np.argsort(-score, kind="stable")[:n]]
    rows = np.sort(np.concatenate([chosen_minority, chosen_majority]))
    return rows, present[rows].astype(np.int64)


def decode(paths: list[Path]) -> np.ndarray:
    """Centre-crop CROP x CROP, resize to SIZE x SIZE -> uint8 (N, 3, SIZE, SIZE)."""
    from PIL import Image

    out = np.empty((len(paths), SIZE, SIZE, 3), dtype=np.uint8)
    for i, p in enumerate(paths):
        try:
            with Image.open(p) as im:
                w, h = im.size
                if w < CROP or h < CROP:
                    raise DataError(f"{p} is {w}x{h}, smaller than the {CROP}x{CROP} crop.")
                left, top = (w - CROP) // 2, (h - CROP) // 2
                box = (left, top, left + CROP, top + CROP)
                face = im.convert("RGB").resize((SIZE, SIZE), Image.Resampling.BILINEAR, box=box)
                out[i] = np.asarray(face)
        except OSError as exc:
            raise DataError(f"{p} cannot be decoded ({exc}); the image is corrupt.") from exc
    return out.transpose(0, 3, 1, 2)


def incomplete_fix(folder: Path, data_dir: Path) -> str:
    """torchvision will not re-download over an existing image folder, so say how to refill it."""
    return f"unzip {folder / ZIP_FILE} again into {folder}, or " + MANUAL_FIX.format(dir=data_dir)


def load(name: str, attribute: str, data_dir: Path, max_per_class: int) -> ImageSet:
    folder = locate(name, data_dir)
    files, attrs, _ = read_attributes(name, folder / ATTR_FILE, data_dir)
    rows, y = balanced_selection(attrs, ATTRIBUTES.index(attribute), max_per_class)
    paths = [folder / IMAGE_DIR / f for f in files[rows]]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        shown = "\n".join(f"  - {m}" for m in missing[:10])
        raise DataError(
            f"{name}: {len(missing)} of the {len(paths)} selected images are missing, e.g.\n"
            f"{shown}\nThe image folder {folder / IMAGE_DIR} is incomplete. "
            f"Fix: {incomplete_fix(folder, data_dir)}."
        )
    return ImageSet(
        x=to_float(decode(paths), (-1.0, 1.0)),
        y=y,
        n_classes=2,
        name=name,
        split="all",
        value_range=(-1.0, 1.0),
    )


def verified_files(name: str, data_dir: Path) -> list[dict]:
    """Manifest entries: the attribute list (md5-checked), the zip if kept (md5-checked), and
    the image folder, checked to hold every image the attribute list names (no per-image md5
    exists upstream)."""
    folder = locate(name, data_dir)
    attr_path = folder / ATTR_FILE
    files, _, attr_md5 = read_attributes(name, attr_path, data_dir)
    entries = [
        {"path": str(attr_path.resolve()), "md5": attr_md5, "bytes": attr_path.stat().st_size}
    ]
    zip_path = folder / ZIP_FILE
    if zip_path.is_file():
        zip_md5 = checksums.md5_file(zip_path)
        fix = f"delete it, then {MANUAL_FIX.format(dir=data_dir)}"
        checksums.check("celeba", ZIP_FILE, zip_md5, zip_path, fix)
        entries.append(
            {"path": str(zip_path.resolve()), "md5": zip_md5, "bytes": zip_path.stat().st_size}
        )
    image_dir = folder / IMAGE_DIR
    with os.scandir(image_dir) as it:
        present = {e.name: e.stat().st_size for e in it if e.is_file()}
    absent = [f for f in files if f not in present]
    if absent:
        raise DataError(
            f"{name}: {image_dir} lacks {len(absent)} of the {len(files)} images listed in "
            f"{attr_path} (e.g. {', '.join(absent[:5])}). Fix: {incomplete_fix(folder, data_dir)}."
        )
    entries.append(
        {
            "path": str(image_dir.resolve()),
            "md5": None,
            "bytes": sum(present[f] for f in files),
            "n_images": len(files),
        }
    )
    return entries


def download(data_dir: Path) -> None:
    """torchvision's CelebA download (Google Drive via gdown; often refused by quota)."""
    import torchvision.datasets

    torchvision.datasets.CelebA(root=str(data_dir), split="all", target_type="attr", download=True)
