"""The captions-64 recipe: a tiny caption folder trained through the real `mmgan` CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from mmgan_ref.cli import main
from mmgan_ref.data.text import Vocabulary
from mmgan_ref.flagship.captions import CaptionGAN
from mmgan_ref.flagship.model import FlagshipConfig

COLOURS = {"red": (220, 30, 30), "green": (30, 200, 60), "blue": (40, 60, 220)}
SHAPES = ("square", "circle")
FAST = ["--steps", "3", "--batch-size", "8", "--image-size", "32", "--device", "cpu",
        "--no-progress"]


def _caption_folder(root, n: int = 24, text_dir: str = "text"):
    """n images (nested as CUB ships them) of a coloured square or circle, 2 captions each."""
    yy, xx = np.mgrid[:48, :48]
    for i in range(n):
        colour, shape = list(COLOURS)[i % 3], SHAPES[(i // 3) % 2]
        image = np.full((48, 48, 3), 245, np.uint8)
        centre = 14 + (i % 4) * 6
        inside = ((np.abs(yy - centre) < 9) & (np.abs(xx - centre) < 9) if shape == "square"
                  else (yy - centre) ** 2 + (xx - centre) ** 2 < 81)
        image[inside] = COLOURS[colour]
        folder = f"{i % 2:03d}.{shape}s"
        (root / "images" / folder).mkdir(parents=True, exist_ok=True)
        (root / text_dir / folder).mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(root / "images" / folder / f"img_{i:02d}.png")
        (root / text_dir / folder / f"img_{i:02d}.txt").write_text(
            f"a {colour} {shape} on a white background\nthis {shape} is {colour}.\n")
    return root


def test_captions_64_trains_from_a_local_folder_and_samples_by_caption(tmp_path, capsys):
    data, out = _caption_folder(tmp_path / "cub"), tmp_path / "run"
    assert main(["train", "captions-64", "--data", str(data), "--out", str(out), *FAST]) == 0
    for name in ("checkpoint.pt", "config.json", "samples.png", "metrics.json", "curves.png"):
        assert (out / name).is_file(), name
    config = json.loads((out / "config.json").read_text())
    assert config["recipe"] == "captions-64"
    assert config["train"]["extra"]["data_dir"] == str(data.resolve())
    metrics = json.loads((out / "metrics.json").read_text())
    held = metrics["caption->image (held_out)"]
    assert held["queries"] == 2 * 2  # 10% of 24 images (2), two captions each
    assert 0 <= held["R@1"] <= 1 and metrics["chance"]["R@1"] == pytest.approx(0.5)
    assert "caption->image (train)" in metrics and "generated->caption (held_out)" in metrics

    # The run samples without its data: the vocabulary travels in the checkpoint.
    (data / "images").rename(data / "moved")
    picture = tmp_path / "red.png"
    assert main(["sample", str(out), "-o", str(picture), "-n", "4", "--text",
                 "a red circle on a white background"]) == 0
    assert picture.is_file() and picture.stat().st_size > 0
    strip = tmp_path / "strip.png"
    assert main(["sample", str(out), "-o", str(strip), "--interpolate", "a red square",
                 "a blue circle"]) == 0
    assert strip.is_file()
    capsys.readouterr()
    assert main(["sample", str(out), "-o", str(picture), "--text", "a purple zebra"]) == 2
    err = capsys.readouterr().err
    assert "unknown words: 'purple', 'zebra'" in err and "training captions" in err
    assert main(["sample", str(out), "--sound", "x.wav"]) == 2
    assert "does not take --sound" in capsys.readouterr().err


@pytest.mark.parametrize("argv,message", [
    (["train", "captions-64"], "--data: recipe 'captions-64' trains on a local caption folder"),
    (["train", "ring", "--data", "."], "--data: recipe 'ring' uses built-in data"),
    (["train", "captions-64", "--data", "absent"], "--data: no folder at"),
])
def test_data_flag_errors_name_the_flag(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main([*argv, *FAST]) == 2
    assert message in capsys.readouterr().err
    assert not any(tmp_path.rglob("*.pt"))


def test_a_folder_of_the_wrong_layout_is_explained(tmp_path, capsys):
    (tmp_path / "photos").mkdir()
    assert main(["train", "captions-64", "--data", str(tmp_path), "--out",
                 str(tmp_path / "run"), *FAST]) == 2
    err = capsys.readouterr().err
    assert "--data" in err and "lacks images/ or text/" in err and "CUB-200" in err
    tiny = _caption_folder(tmp_path / "tiny", n=3, text_dir="text_c10")
    assert main(["train", "captions-64", "--data", str(tiny), "--out",
                 str(tmp_path / "run"), *FAST]) == 2
    assert "3 images are too few" in capsys.readouterr().err


def test_mismatched_pairs_skip_captions_of_the_same_image():
    torch.manual_seed(0)
    vocabulary = Vocabulary.from_captions(["a red square", "a blue circle"])
    family = CaptionGAN(FlagshipConfig(code_dim=8, z_dim=8, g_width=4, d_width=4, e_width=4,
                                       text_dim=8), vocabulary, ["a red square"])
    assert family.encoder.modalities == ("image", "text")  # no sound tower
    batch = {"image": torch.rand(4, 3, 32, 32) * 2 - 1,
             "tokens": vocabulary.encode_batch(["a red square"] * 2 + ["a blue circle"] * 2),
             "image_index": torch.tensor([5, 5, 7, 7])}
    _, extras = family.d_loss(batch)
    # Rolled by one, rows 1 and 3 meet another caption of their own image: 2 wrong pairs.
    keys = family.pair_keys(batch)
    assert int((keys != keys.roll(1, 0)).any(dim=1).sum()) == 2
    assert torch.isfinite(extras["d_wrong"])
    for phase in family.phases:
        loss, _ = phase.loss(batch)
        assert torch.isfinite(loss)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
@pytest.mark.parametrize("amp", [False, True])
def test_captions_64_trains_on_cuda(amp, tmp_path):
    from mmgan_ref.train.run import train

    data = _caption_folder(tmp_path / "cub")
    run = train("captions-64", out=tmp_path / "run", steps=5, batch_size=16, device="cuda",
                amp=amp, channels_last=True, progress=False,
                extra={"image_size": 64, "data_dir": str(data)})
    assert all(p.is_cuda for p in run.family.parameters())
    assert (tmp_path / "run" / "samples.png").is_file()
