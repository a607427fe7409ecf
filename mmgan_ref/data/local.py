"""Real data sets read from a local folder: MNIST in IDX files, and image folders with captions.

Lesson: 10 Scaling up (training on real data).

Nothing is downloaded: a user who has the files puts them in a folder and points the
course at it. A missing or malformed folder gets an error that says what was expected
where, and how to get it.

Layouts::

    MNIST (LeCun et al. 1998):        ROOT/train-images-idx3-ubyte[.gz]
                                      ROOT/train-labels-idx1-ubyte[.gz]
                                      ROOT/t10k-images-idx3-ubyte[.gz], t10k-labels-...
    caption folder (as CUB-200 and    ROOT/images/<any/path>/NAME.jpg|.png
    Oxford-102 captions ship, Reed    ROOT/text/<same/path>/NAME.txt   (or text_c10/)
    et al. 2016):                     one caption per line
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from mmgan_ref.data.text import Vocabulary, clip_caption
from mmgan_ref.utils import check_choice, check_int

IMAGE_SIZES = (32, 64)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
CAPTION_FOLDERS = ("text", "text_c10")
IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
MNIST_HELP = ("MNIST's four IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, "
              "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, gzipped or not) are published "
              "on Yann LeCun's MNIST page and mirrored widely; download them once and put them "
              "in this folder")


class LocalDataError(ValueError):
    """A local data folder is missing, incomplete or malformed."""


def _folder(name: str, root: str | Path) -> Path:
    root = Path(root).expanduser()
    if not root.is_dir():
        raise LocalDataError(f"{name}: no folder at {str(root)!r}")
    return root


# ----------------------------------------------------------------------------- IDX / MNIST


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (optionally gzipped) into a NumPy array.

    The format: two zero bytes, a type byte, a byte with the number of dimensions, one
    big-endian int32 per dimension, then the data in row-major order.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as err:
        raise LocalDataError(f"{str(path)!r} could not be read ({err})") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in IDX_TYPES:
        raise LocalDataError(f"{str(path)!r} is not an IDX file: it should start with two zero "
                             "bytes and a type byte (0x08 for unsigned bytes)")
    ndim = data[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(IDX_TYPES[data[2]])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(data) != expected:
        raise LocalDataError(f"{str(path)!r} is truncated or padded: its header promises shape "
                             f"{shape} ({expected} bytes) but the file has {len(data)} bytes")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)


def _find(root: Path, stem: str) -> Path:
    for candidate in (root / stem, root / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    raise LocalDataError(f"data_dir: {str(root)!r} has no {stem} (or {stem}.gz). {MNIST_HELP}.")


def load_mnist(root: str | Path, split: str = "train", image_size: int = 32
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST from its IDX files: images (N, 1, S, S) in [-1, 1] and labels (N,) int64.

    Images are padded from 28x28 to 32x32 (as LeNet-5 did) or resized to 64x64.
    """
    check_choice("split", split, tuple(MNIST_FILES))
    check_choice("image_size", image_size, IMAGE_SIZES)
    root = _folder("data_dir", root)
    image_file, label_file = (_find(root, stem) for stem in MNIST_FILES[split])
    images, labels = read_idx(image_file), read_idx(label_file)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise LocalDataError(f"data_dir: {image_file.name} holds shape {images.shape} and "
                             f"{label_file.name} shape {labels.shape}; expected (N, 28, 28) "
                             "images and (N,) labels")
    x = torch.from_numpy(images.astype(np.float32) / 127.5 - 1.0).unsqueeze(1)  # (N, 1, 28, 28)
    if image_size == 32:
        x = torch.nn.functional.pad(x, (2, 2, 2, 2), value=-1.0)
    else:
        x = torch.nn.functional.interpolate(x, size=image_size, mode="bilinear",
                                            align_corners=False)
    return x.contiguous(), torch.from_numpy(labels.astype(np.int64))


# ----------------------------------------------------------------------------- caption folders


def _caption_pairs(root: Path) -> list[tuple[Path, list[str]]]:
    images_dir = root / "images"
    text_dir = next((root / n for n in CAPTION_FOLDERS if (root / n).is_dir()), None)
    layout = ("expected ROOT/images/.../NAME.jpg (or .png) and ROOT/text/.../NAME.txt (or "
              "text_c10/) with one caption per line, the layout CUB-200 and Oxford-102 captions "
              "ship in (Reed et al. 2016)")
    if not images_dir.is_dir() or text_dir is None:
        raise LocalDataError(f"data_dir: {str(root)!r} lacks images/ or text/; {layout}")
    pairs = []
    for image in sorted(p for p in images_dir.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES):
        caption_file = (text_dir / image.relative_to(images_dir)).with_suffix(".txt")
        if not caption_file.is_file():
            raise LocalDataError(f"data_dir: image {str(image)!r} has no caption file "
                                 f"{str(caption_file)!r}; {layout}")
        lines = [s.strip() for s in caption_file.read_text(encoding="utf-8").splitlines()]
        lines = [s for s in lines if s]
        if not lines:
            raise LocalDataError(f"data_dir: caption file {str(caption_file)!r} is empty")
        pairs.append((image, lines))
    if not pairs:
        raise LocalDataError(f"data_dir: no images under {str(images_dir)!r}; {layout}")
    return pairs


def _load_image(path: Path, image_size: int) -> torch.Tensor:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            rgb = img.convert("RGB")
    except (UnidentifiedImageError, OSError) as err:
        raise LocalDataError(f"data_dir: {str(path)!r} is not a readable image ({err})") from None
    # Centre-crop to a square, then resize: captions describe the whole object.
    side = min(rgb.size)
    left, top = (rgb.width - side) // 2, (rgb.height - side) // 2
    rgb = rgb.crop((left, top, left + side, top + side)).resize((image_size, image_size),
                                                                Image.Resampling.BICUBIC)
    array = np.asarray(rgb, dtype=np.float32) / 127.5 - 1.0  # (S, S, 3)
    return torch.from_numpy(array).permute(2, 0, 1).contiguous()


class CaptionFolder(Dataset):
    """An image folder with one caption file per image; one item per (image, caption).

    Items: {"image": (3, S, S) in [-1, 1], "caption": str, "tokens": (L,) int64,
    "image_index": () int64}. The vocabulary is built from every caption (unknown words
    at sampling time map to UNK only if asked).

    Args:
        root: the folder (see the module docstring for its layout).
        image_size: 32 or 64.
        max_len: caption length in tokens; longer captions are cut.
    """

    def __init__(self, root: str | Path, image_size: int = 64, max_len: int = 24) -> None:
        check_choice("image_size", image_size, IMAGE_SIZES)
        self.max_len = check_int("max_len", max_len, minimum=2, maximum=256)
        pairs = _caption_pairs(_folder("data_dir", root))
        self.images = torch.stack([_load_image(path, image_size) for path, _ in pairs])
        self.captions = [(i, caption) for i, (_, lines) in enumerate(pairs) for caption in lines]
        self.vocabulary = Vocabulary.from_captions([c for _, c in self.captions], max_len=max_len)
        self.tokens = torch.stack([self._encode(c) for _, c in self.captions])

    def _encode(self, caption: str) -> torch.Tensor:
        return self.vocabulary.encode(clip_caption(caption, self.max_len), max_len=self.max_len,
                                      unknown="map")

    def __len__(self) -> int:
        return len(self.captions)

    def __getitem__(self, index: int) -> dict[str, object]:
        image_index, caption = self.captions[index]
        return {"image": self.images[image_index], "caption": caption,
                "tokens": self.tokens[index], "image_index": torch.tensor(image_index)}

    def tensors(self) -> dict[str, torch.Tensor]:
        index = torch.tensor([i for i, _ in self.captions])
        return {"image": self.images[index], "tokens": self.tokens, "image_index": index}
