"""Local data sets: tiny files in the real formats, read through the real code."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
import torch
from PIL import Image

from mmgan_ref.data.local import CaptionFolder, LocalDataError, load_mnist, read_idx


def _write_idx(path, array: np.ndarray, gz: bool = False) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">i", n) for n in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if gz else data)


def _mnist(tmp_path, n: int = 5, gz: bool = False):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = np.arange(n, dtype=np.uint8) % 10
    suffix = ".gz" if gz else ""
    _write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", images, gz)
    _write_idx(tmp_path / f"train-labels-idx1-ubyte{suffix}", labels, gz)
    return images, labels


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_idx_files_load_with_values_and_padding(tmp_path, gz):
    images, labels = _mnist(tmp_path, gz=gz)
    x, y = load_mnist(tmp_path, "train", image_size=32)
    assert x.shape == (5, 1, 32, 32) and y.tolist() == labels.tolist()
    expected = torch.from_numpy(images / 127.5 - 1).float()
    assert torch.allclose(x[:, 0, 2:30, 2:30], expected, atol=1e-6)
    assert (x[:, :, :2] == -1).all()  # the 2-pixel frame is background
    x64, _ = load_mnist(tmp_path, "train", image_size=64)
    assert x64.shape == (5, 1, 64, 64) and x64.min() >= -1.0001 and x64.max() <= 1.0001


def test_missing_mnist_files_say_what_is_expected_and_how_to_get_it(tmp_path):
    with pytest.raises(LocalDataError, match=r"no t10k-images-idx3-ubyte.*LeCun"):
        load_mnist(tmp_path, "test")
    with pytest.raises(LocalDataError, match="no folder at"):
        load_mnist(tmp_path / "absent")


def test_malformed_idx_files_are_named(tmp_path):
    bad = tmp_path / "train-images-idx3-ubyte"
    bad.write_bytes(b"PK\x03\x04 a zip file")
    with pytest.raises(LocalDataError, match="is not an IDX file"):
        read_idx(bad)
    _write_idx(bad, np.zeros((2, 28, 28), np.uint8))
    bad.write_bytes(bad.read_bytes()[:-10])
    with pytest.raises(LocalDataError, match="truncated"):
        read_idx(bad)


def _caption_folder(root, names=("birds/a", "birds/b", "flowers/c")):
    for i, name in enumerate(names):
        image = root / "images" / f"{name}.jpg"
        text = root / "text_c10" / f"{name}.txt"
        image.parent.mkdir(parents=True, exist_ok=True)
        text.parent.mkdir(parents=True, exist_ok=True)
        colour = (200, 30 * i, 10)
        Image.new("RGB", (40 + 10 * i, 30), colour).save(image)
        text.write_text(f"a red bird number {i}\nthis small bird is red\n\n")


def test_caption_folder_pairs_every_caption_with_its_image(tmp_path):
    _caption_folder(tmp_path)
    data = CaptionFolder(tmp_path, image_size=32)
    assert len(data) == 6  # 3 images x 2 non-empty captions
    item = data[1]
    assert item["image"].shape == (3, 32, 32) and item["caption"] == "this small bird is red"
    assert item["image_index"].item() == 0
    assert data.vocabulary.decode(item["tokens"]) == "this small bird is red"
    red = item["image"][0].mean().item()
    assert red == pytest.approx(200 / 127.5 - 1, abs=0.02)
    tensors = data.tensors()
    assert tensors["image"].shape == (6, 3, 32, 32) and tensors["tokens"].shape[0] == 6


def test_caption_folder_errors_name_the_missing_piece(tmp_path):
    with pytest.raises(LocalDataError, match="lacks images/ or text/"):
        CaptionFolder(tmp_path)
    _caption_folder(tmp_path)
    (tmp_path / "text_c10" / "birds" / "b.txt").unlink()
    with pytest.raises(LocalDataError, match=r"b.jpg' has no caption file"):
        CaptionFolder(tmp_path)
    with pytest.raises(ValueError, match="image_size"):
        CaptionFolder(tmp_path, image_size=48)


def test_unreadable_image_is_named(tmp_path):
    _caption_folder(tmp_path, names=("x",))
    (tmp_path / "images" / "x.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(LocalDataError, match="not a readable image"):
        CaptionFolder(tmp_path)
