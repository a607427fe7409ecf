"""Tests of mmgan_ref.data.digits: scikit-learn digits with measured captions."""

import pytest
import torch

from mmgan_ref.data.digits import (
    DIGIT_NAMES,
    CaptionedDigits,
    digits_vocabulary,
    load_digits_tensors,
    make_caption,
    measure_style,
    style_classes,
)
from mmgan_ref.data.text import tokenize


@pytest.fixture(scope="module")
def train():
    return CaptionedDigits("train", seed=0)


def test_load_all_shapes_and_range():
    images, labels = load_digits_tensors()
    assert images.shape == (1797, 1, 8, 8) and images.dtype == torch.float32
    assert labels.shape == (1797,) and labels.dtype == torch.int64
    assert images.min() == -1 and images.max() == 1
    assert set(labels.tolist()) == set(range(10))


def test_split_is_stratified_half_and_half_and_disjoint():
    all_images, _ = load_digits_tensors("all")
    train_images, train_labels = load_digits_tensors("train", seed=0)
    test_images, test_labels = load_digits_tensors("test", seed=0)
    assert len(train_labels) + len(test_labels) == 1797
    assert abs(len(train_labels) - len(test_labels)) <= 1
    counts = torch.bincount(train_labels, minlength=10) - torch.bincount(test_labels, minlength=10)
    assert counts.abs().max() <= 1
    # Together the halves are the whole set (compare sorted flattened rows).
    def rows(x):
        return sorted(map(tuple, x.flatten(1).tolist()))
    assert rows(torch.cat([train_images, test_images])) == rows(all_images)
    other, _ = load_digits_tensors("train", seed=1)
    assert not torch.equal(other, train_images)


def test_items_and_tensors(train):
    assert len(train) == 898
    item = train[5]
    assert set(item) == {"image", "label", "caption", "tokens"}
    assert item["image"].shape == (1, 8, 8) and item["label"].dtype == torch.int64
    assert item["tokens"].dtype == torch.int64 and item["tokens"].shape == (10,)
    assert DIGIT_NAMES[int(item["label"])] in item["caption"].split()
    assert train.vocabulary.decode(item["tokens"]) == " ".join(tokenize(item["caption"]))
    stacked = train.tensors()
    assert set(stacked) == {"image", "label", "tokens"}
    assert stacked["image"].shape == (898, 1, 8, 8) and stacked["tokens"].shape == (898, 10)


def test_captions_are_varied_and_deterministic(train):
    again = CaptionedDigits("train", seed=0)
    assert again.captions == train.captions
    assert len({c.split()[0] for c in train.captions}) >= 3  # several templates in use
    assert len(set(train.captions)) > 100


def test_style_words_follow_the_measurements(train):
    ink, slant = measure_style(train.images)
    bold = torch.tensor(["bold" in c for c in train.captions])
    thin = torch.tensor(["thin" in c for c in train.captions])
    right = torch.tensor(["leaning right" in c for c in train.captions])
    left = torch.tensor(["leaning left" in c for c in train.captions])
    for digit in range(10):
        mine = train.labels == digit
        assert ink[mine & bold].min() > ink[mine & thin].max()
        assert slant[mine & right].max() < slant[mine & left].min()
    assert 0.2 < bold.float().mean() < 0.45 and 0.2 < right.float().mean() < 0.45


def test_slant_sign_on_a_sheared_stroke():
    image = -torch.ones(1, 1, 8, 8)
    for row in range(8):  # a stroke whose top is to the right: "/"
        image[0, 0, row, 7 - row] = 1.0
    _, slant = measure_style(image)
    assert slant.item() < -0.5
    _, slant_class = style_classes(image, torch.tensor([1]))
    assert slant_class.item() == 0  # "leaning right"


def test_make_caption_templates():
    assert make_caption(7, 2, 0, 0) == "a bold seven leaning right"
    assert make_caption(8, 1, 1, 0) == "an eight upright"
    assert make_caption(7, 0, 1, 1) == "the digit seven, thin, upright"
    vocab = digits_vocabulary()
    for template in range(4):
        for ink in range(3):
            for slant in range(3):
                caption = make_caption(8, ink, slant, template)
                assert vocab.decode(vocab.encode(caption)) == " ".join(tokenize(caption))


def test_bad_split_raises():
    with pytest.raises(ValueError, match="split.*'validation'.*'train'"):
        CaptionedDigits("validation")
    with pytest.raises(ValueError, match="seed"):
        load_digits_tensors("train", seed=-1)
