"""Tests of mmgan_ref.data.text: tokenizer and vocabulary."""

import json

import pytest
import torch

from mmgan_ref.data.text import PAD, UNK, Vocabulary, tokenize


@pytest.fixture
def vocab():
    return Vocabulary.from_captions(["a small red circle", "a big blue square at the top"],
                                    max_len=8)


def test_tokenize_lowercases_and_drops_punctuation():
    assert tokenize("Top-left: a TINY crimson disc.") == ["top", "left", "a", "tiny", "crimson",
                                                         "disc"]
    assert tokenize("  ") == []
    with pytest.raises(TypeError, match="text must be a str"):
        tokenize(3)


def test_special_ids_and_words(vocab):
    assert (PAD, UNK) == (0, 1)
    assert vocab.words[:2] == ("<pad>", "<unk>")
    assert len(vocab) == 2 + 10 and "circle" in vocab and "purple" not in vocab
    assert list(vocab.words[2:]) == sorted(vocab.words[2:])


def test_encode_pads_and_decode_round_trips(vocab):
    ids = vocab.encode("A small red circle!")
    assert ids.dtype == torch.long and ids.shape == (8,)
    assert ids[4:].tolist() == [PAD] * 4 and (ids[:4] > UNK).all()
    assert vocab.decode(ids) == "a small red circle"
    assert vocab.encode("a circle", max_len=3).shape == (3,)
    batch = vocab.encode_batch(["a circle", "the big square"])
    assert batch.shape == (2, 8)
    assert vocab.decode(batch[1]) == "the big square"


def test_unknown_words_are_all_listed(vocab):
    with pytest.raises(ValueError) as info:
        vocab.encode("a purple hexagon circle purple")
    message = str(info.value)
    assert "'purple', 'hexagon'" in message
    assert "Vocabulary.words" in message and "10 words" in message
    mapped = vocab.encode("a purple circle", unknown="map")
    assert mapped[:3].tolist() == [vocab.words.index("a"), UNK, vocab.words.index("circle")]
    with pytest.raises(ValueError, match="unknown"):
        vocab.encode("a circle", unknown="drop")


def test_too_long_caption_names_max_len(vocab):
    with pytest.raises(ValueError, match="max_len=3"):
        vocab.encode("a small red circle", max_len=3)


def test_save_and_load_round_trip(vocab):
    state = json.loads(json.dumps(vocab.to_dict()))
    again = Vocabulary.from_dict(state)
    assert again == vocab and again.words == vocab.words and again.max_len == 8
    torch.testing.assert_close(again.encode("the red square"), vocab.encode("the red square"))
    with pytest.raises(ValueError, match="to_dict"):
        Vocabulary.from_dict({"max_len": 3})


def test_bad_construction_and_decode_inputs():
    with pytest.raises(ValueError, match="single lowercase word"):
        Vocabulary(["red", "Top Left"])
    with pytest.raises(ValueError, match="no captions"):
        Vocabulary.from_captions([])
    vocab = Vocabulary(["red"])
    with pytest.raises(ValueError, match="out of range"):
        vocab.decode([2, 7])
    with pytest.raises(ValueError, match=r"shape \(L,\)"):
        vocab.decode(torch.zeros(2, 3, dtype=torch.long))
    with pytest.raises(TypeError, match="list of strings"):
        vocab.encode_batch("red")
