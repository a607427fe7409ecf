"""Tests of the shapes data: scenes, captions, sounds and the attribute reader."""

import itertools
import time

import pytest
import torch

from mmgan_ref.data import shapes
from mmgan_ref.data.attributes import (
    ATTRIBUTE_NAMES,
    NUM_VALUES,
    all_combinations,
    default_held_out,
    read_attributes,
    to_indices,
    to_names,
)
from mmgan_ref.data.shapes import (
    HELDOUT_TEMPLATES,
    TEMPLATES,
    Shapes,
    canonical_caption,
    make_captions,
    parse_caption,
    sample_scenes,
    shapes_vocabulary,
)
from mmgan_ref.data.sound import (
    NUM_SAMPLES,
    PITCHES,
    SAMPLE_RATE,
    log_spectrogram,
    read_wav,
    synthesize_sound,
    write_wav,
)
from mmgan_ref.data.text import tokenize

# ----------------------------------------------------------------------------- scenes


@pytest.mark.parametrize("size", [32, 64])
def test_scene_shapes_dtypes_ranges(size):
    scenes = sample_scenes(6, seed=0, image_size=size)
    assert scenes["image"].shape == (6, 3, size, size) and scenes["image"].dtype == torch.float32
    assert scenes["image"].min() >= -1 and scenes["image"].max() <= 1
    assert scenes["attributes"].shape == (6, 4) and scenes["attributes"].dtype == torch.int64
    assert (scenes["attributes"] < torch.tensor(NUM_VALUES)).all()
    assert len(scenes["caption"]) == 6 and isinstance(scenes["caption"][0], str)
    assert scenes["tokens"].shape == (6, shapes.CAPTION_MAX_LEN)
    assert scenes["sound"].shape == (6, NUM_SAMPLES) and scenes["sound"].abs().max() <= 1
    assert scenes["spectrogram"].shape == (6, 65, 32)


def test_determinism_by_seed():
    a, b = sample_scenes(20, seed=4), sample_scenes(20, seed=4)
    for key in ("image", "attributes", "tokens", "sound"):
        torch.testing.assert_close(a[key], b[key])
    assert a["caption"] == b["caption"]
    c = sample_scenes(20, seed=5)
    assert not torch.equal(a["image"], c["image"])
    images_only = sample_scenes(20, seed=4, with_sound=False)
    assert "sound" not in images_only
    torch.testing.assert_close(images_only["image"], a["image"])


def test_images_of_one_combination_vary():
    attributes = torch.tensor([[0, 0, 0, 0]] * 8)
    images = shapes.render_images(attributes, torch.Generator().manual_seed(0))
    distances = torch.pdist(images.flatten(1))
    assert distances.min() > 1.0  # never two identical images of one caption
    assert (read_attributes(images) == attributes).all()


def test_bad_inputs():
    with pytest.raises(ValueError, match="image_size.*48.*32, 64"):
        sample_scenes(4, image_size=48)
    with pytest.raises(ValueError, match="n must be >= 1"):
        sample_scenes(0)
    with pytest.raises(ValueError, match="split"):
        sample_scenes(4, split="test")
    with pytest.raises(ValueError, match="templates"):
        sample_scenes(4, templates="some")
    with pytest.raises(ValueError, match="no attribute combinations"):
        sample_scenes(4, split="heldout", held_out=[])
    with pytest.raises(ValueError, match="colour 'purple'"):
        sample_scenes(4, held_out=[("circle", "purple", "small", "top left")])
    with pytest.raises(ValueError, match="images must have shape"):
        read_attributes(torch.zeros(2, 1, 32, 32))


@pytest.mark.parametrize("size", [32, 64])
def test_attribute_reader_is_at_least_99_percent_right(size):
    scenes = sample_scenes(2000, seed=11, image_size=size, held_out=[], with_sound=False)
    right = read_attributes(scenes["image"]) == scenes["attributes"]  # (2000, 4)
    per_attribute = right.float().mean(dim=0)
    report = dict(zip(ATTRIBUTE_NAMES, per_attribute.tolist(), strict=True))
    assert (per_attribute >= 0.99).all(), report
    assert right.all(dim=1).float().mean() >= 0.99


def test_attribute_reader_on_a_blank_image_is_not_nan():
    out = read_attributes(torch.full((2, 3, 32, 32), -1.0))
    assert out.shape == (2, 4) and out.dtype == torch.int64


def test_generation_of_5000_scenes_is_fast():
    # CPU time of this process on one thread: other jobs sharing the machine do not count.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        start = time.process_time()
        sample_scenes(5000, seed=0)
        seconds = time.process_time() - start
    finally:
        torch.set_num_threads(threads)
    assert seconds < 5.0, f"5,000 scenes took {seconds:.1f} s of CPU on one core"


# ----------------------------------------------------------------------------- held out


def test_default_held_out_is_about_ten_percent_and_keeps_all_pairs():
    held = default_held_out()
    assert len(held) == len(set(held)) == 10
    assert 0.08 <= len(held) / len(all_combinations()) <= 0.12
    train = [c for c in all_combinations() if c not in set(held)]
    for i, j in itertools.combinations(range(4), 2):
        seen = {(c[i], c[j]) for c in train}
        assert len(seen) == NUM_VALUES[i] * NUM_VALUES[j]


def test_held_out_combinations_are_absent_from_train_split():
    held = set(default_held_out())
    train = Shapes(n=600, seed=2, split="train")
    assert not held & {tuple(a) for a in train.tensors()["attributes"].tolist()}
    test = Shapes(n=200, seed=2, split="heldout")
    assert {tuple(a) for a in test.tensors()["attributes"].tolist()} <= held
    custom = [("circle", "red", "small", "top left")]
    only = sample_scenes(20, seed=0, held_out=custom, split="heldout", with_sound=False)
    assert (only["attributes"] == torch.tensor([0, 0, 0, 0])).all()


def test_dataset_items_and_tensors():
    data = Shapes(n=12, seed=0, image_size=64)
    assert len(data) == 12
    item = data[3]
    assert set(item) == {"image", "caption", "tokens", "sound", "spectrogram", "attributes"}
    assert item["image"].shape == (3, 64, 64) and item["attributes"].shape == (4,)
    assert data.vocabulary.decode(item["tokens"]) == " ".join(tokenize(item["caption"]))
    assert (parse_caption(item["caption"]) == item["attributes"]).all()
    stacked = data.tensors()
    assert set(stacked) == {"image", "tokens", "sound", "spectrogram", "attributes"}
    assert stacked["spectrogram"].shape == (12, 65, 32)


# ----------------------------------------------------------------------------- captions


def test_canonical_caption_and_names():
    assert canonical_caption((0, 0, 0, 0)) == "a small red circle at the top left"
    attrs = ("square", "blue", "large", "bottom right")
    assert canonical_caption(attrs) == "a large blue square at the bottom right"
    named = dict(zip(ATTRIBUTE_NAMES, attrs, strict=True))
    assert canonical_caption(named) == canonical_caption(attrs)
    assert to_names(to_indices(attrs)) == named


def test_parse_round_trip_for_every_template_and_synonym():
    vocab = shapes_vocabulary()
    for scene in all_combinations():
        for template in range(len(TEMPLATES)):
            for pick in range(3):
                caption = shapes._fill(template, scene, (pick,) * 5)
                assert tuple(parse_caption(caption).tolist()) == scene, caption
                assert vocab.decode(vocab.encode(caption)) == " ".join(tokenize(caption))
    random_captions = make_captions(torch.tensor(all_combinations()),
                                    torch.Generator().manual_seed(0))
    parsed = torch.stack([parse_caption(c) for c in random_captions])
    assert (parsed == torch.tensor(all_combinations())).all()
    assert len(set(random_captions)) == len(random_captions)


def test_parse_errors_list_unknown_words_and_missing_attributes():
    with pytest.raises(ValueError) as info:
        parse_caption("a small purple hexagon at the top left")
    assert "'purple', 'hexagon'" in str(info.value) and "shapes_vocabulary" in str(info.value)
    with pytest.raises(ValueError, match="names no colour"):
        parse_caption("a small circle at the top left")
    with pytest.raises(ValueError, match="several shape"):
        parse_caption("a small red circle square at the top left")


def _skeleton(caption):
    words = shapes._word_table()
    return " ".join("_" if w in words else ("a" if w == "an" else w) for w in tokenize(caption))


def test_template_sets_keep_heldout_phrasings_apart():
    heldout_skeletons = {_skeleton(t.format(shape="x", colour="red", size="big", v="top",
                                            h="left").replace(" x", " circle"))
                         for t in HELDOUT_TEMPLATES}
    attributes = torch.tensor(all_combinations())
    train = make_captions(attributes, torch.Generator().manual_seed(1), templates="train")
    held = make_captions(attributes, torch.Generator().manual_seed(1), templates="heldout")
    assert not {_skeleton(c) for c in train} & heldout_skeletons
    assert {_skeleton(c) for c in held} == heldout_skeletons


# ----------------------------------------------------------------------------- sound


def test_sound_encodes_the_attributes():
    attrs = torch.tensor([[s, 0, 1, 0] for s in range(3)] + [[0, 0, 0, 0], [0, 0, 1, 3]])
    waves = synthesize_sound(attrs, seed=0)
    assert waves.shape == (5, NUM_SAMPLES)
    spectrum = torch.fft.rfft(waves).abs()
    freqs = torch.fft.rfftfreq(NUM_SAMPLES, 1 / SAMPLE_RATE)
    for shape in range(3):  # pitch: the dominant frequency (red = pure tone)
        assert abs(freqs[spectrum[shape].argmax()] - PITCHES[shape]) < 0.03 * PITCHES[shape]
    assert waves[3].pow(2).mean() < 0.3 * waves[0].pow(2).mean()  # small is quieter
    envelope = waves[4].abs().unfold(0, 50, 50).amax(dim=1) > 0.05  # 40 frames
    onsets = (envelope[1:] & ~envelope[:-1]).sum() + envelope[0]
    assert onsets == 4  # bottom right: four pulses
    red, blue = synthesize_sound(torch.tensor([[0, 0, 1, 0], [0, 2, 1, 0]]), seed=0)
    second = (freqs - 2 * PITCHES[0]).abs().argmin()
    red_spec, blue_spec = torch.fft.rfft(red).abs(), torch.fft.rfft(blue).abs()
    assert blue_spec[second - 3:second + 4].max() > 10 * red_spec[second - 3:second + 4].max()


def test_sound_is_deterministic_and_varies():
    attrs = torch.tensor([1, 3, 1, 2])
    a, b = synthesize_sound(attrs, seed=1), synthesize_sound(attrs, seed=1)
    assert a.shape == (NUM_SAMPLES,)
    torch.testing.assert_close(a, b)
    assert not torch.equal(a, synthesize_sound(attrs, seed=2))
    with pytest.raises(ValueError, match="indices below"):
        synthesize_sound(torch.tensor([3, 0, 0, 0]))


def test_log_spectrogram_shapes_and_errors():
    wave = synthesize_sound(torch.tensor([0, 1, 0, 1]))
    assert log_spectrogram(wave).shape == (65, 32)
    assert log_spectrogram(wave[None].repeat(2, 1)).shape == (2, 65, 32)
    assert torch.isfinite(log_spectrogram(torch.zeros(NUM_SAMPLES))).all()
    with pytest.raises(ValueError, match="waveform must be"):
        log_spectrogram(torch.zeros(1, 1, 100))


def test_wav_round_trip_and_errors(tmp_path):
    wave = synthesize_sound(torch.tensor([2, 3, 1, 1]), seed=0)
    path = write_wav(tmp_path / "scene.wav", wave)
    back = read_wav(path)
    assert back.shape == wave.shape and (back - wave).abs().max() < 1e-4
    slow = read_wav(path, sample_rate=4000, num_samples=None)
    assert slow.shape == (NUM_SAMPLES // 2,)
    assert read_wav(path, num_samples=500).shape == (500,)
    (tmp_path / "bad.wav").write_bytes(b"not a wav file")
    with pytest.raises(ValueError, match="not a readable WAV"):
        read_wav(tmp_path / "bad.wav")
    with pytest.raises(ValueError, match="no WAV file"):
        read_wav(tmp_path / "missing.wav")
