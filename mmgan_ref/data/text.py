"""Text for the models: a tokenizer and a fixed vocabulary that turns captions into ids.

Lesson: 04 Encoding modalities into one space (text as token ids).

Captions in this course come from finite template sets (digits, shapes), so a vocabulary
is a closed list of words. A word outside it is an error that names every unknown word,
unless the caller asks for ``unknown="map"``, which maps it to ``UNK``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import torch

from mmgan_ref.utils import check_choice, check_int

PAD = 0
UNK = 1
PAD_TOKEN = "<pad>"
UNK_TOKEN = "<unk>"
DEFAULT_MAX_LEN = 16

_WORD = re.compile(r"[a-z0-9]+")


def tokenize(text: str) -> list[str]:
    """Split a caption into lowercase words; punctuation (including hyphens) is dropped.

    Args:
        text: any string, e.g. "Top-left: a tiny crimson disc."
    Returns:
        the words, e.g. ["top", "left", "a", "tiny", "crimson", "disc"].
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return _WORD.findall(text.lower())


def clip_caption(text: str, max_len: int) -> str:
    """The caption cut to its first ``max_len`` tokens (as ``tokenize`` splits them).

    Real captions (CUB-200, Oxford-102) can run longer than a model's ``max_len``; cutting by
    the vocabulary's own tokens, not by whitespace, keeps "red-bellied" as two tokens.
    """
    return " ".join(tokenize(text)[:max_len])


class Vocabulary:
    """A closed word list with ids; ``PAD = 0`` and ``UNK = 1`` come first.

    Args:
        words: the known words (duplicates and order do not matter: ids follow sorted order,
            so the same word set always gives the same ids).
        max_len: default length that ``encode`` pads to.
    """

    def __init__(self, words: Iterable[str], max_len: int = DEFAULT_MAX_LEN) -> None:
        words = list(words)
        for word in words:
            if not isinstance(word, str) or tokenize(word) != [word]:
                raise ValueError(f"words: {word!r} is not a single lowercase word "
                                 "(letters and digits only)")
        self.max_len = check_int("max_len", max_len, minimum=1)
        self._words: tuple[str, ...] = (PAD_TOKEN, UNK_TOKEN, *sorted(set(words)))
        self._ids = {word: i for i, word in enumerate(self._words)}

    @classmethod
    def from_captions(cls, captions: Iterable[str], max_len: int | None = None) -> Vocabulary:
        """Build a vocabulary holding every word of `captions`.

        Args:
            captions: example sentences.
            max_len: padding length; default: the longest caption's word count.
        """
        token_lists = [tokenize(c) for c in captions]
        if not token_lists:
            raise ValueError("captions: got no captions; give at least one")
        longest = max(len(t) for t in token_lists)
        return cls((w for t in token_lists for w in t), max_len=max_len or max(longest, 1))

    @property
    def words(self) -> tuple[str, ...]:
        """All tokens in id order: ``words[i]`` is the token of id ``i`` (0 and 1 special)."""
        return self._words

    def __len__(self) -> int:
        return len(self._words)

    def __contains__(self, word: object) -> bool:
        return word in self._ids

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} tokens, max_len={self.max_len})"

    def unknown_words(self, caption: str) -> list[str]:
        """The words of `caption` that are not in the vocabulary, in order, without repeats."""
        return list(dict.fromkeys(w for w in tokenize(caption) if w not in self._ids))

    def encode(self, caption: str, max_len: int | None = None,
               unknown: str = "error") -> torch.Tensor:
        """Turn a caption into ids, padded with PAD.

        Args:
            caption: the text.
            max_len: length of the result; default ``self.max_len``.
            unknown: "error" (raise on unknown words) or "map" (map them to UNK).
        Returns:
            LongTensor (max_len,).
        Raises:
            ValueError: unknown words (all of them are listed), or more than max_len words.
        """
        max_len = self.max_len if max_len is None else check_int("max_len", max_len, minimum=1)
        check_choice("unknown", unknown, ("error", "map"))
        return torch.tensor(self._ids_of(caption, max_len, unknown), dtype=torch.long)

    def _ids_of(self, caption: str, max_len: int, unknown: str) -> list[int]:
        tokens = tokenize(caption)
        if unknown == "error":
            missing = list(dict.fromkeys(w for w in tokens if w not in self._ids))
            if missing:
                listed = ", ".join(repr(w) for w in missing)
                raise ValueError(f"caption {caption!r}: unknown words: {listed}; the vocabulary "
                                 f"has {len(self) - 2} words: see Vocabulary.words "
                                 "(or pass unknown='map' to map them to <unk>)")
        if len(tokens) > max_len:
            raise ValueError(f"caption {caption!r} has {len(tokens)} words, more than "
                             f"max_len={max_len}; shorten it or raise max_len")
        return [self._ids.get(w, UNK) for w in tokens] + [PAD] * (max_len - len(tokens))

    def encode_batch(self, captions: Sequence[str], max_len: int | None = None,
                     unknown: str = "error") -> torch.Tensor:
        """Encode several captions; returns LongTensor (B, max_len)."""
        if isinstance(captions, str):
            raise TypeError("captions must be a list of strings, got one str; "
                            "use encode() for a single caption")
        max_len = self.max_len if max_len is None else check_int("max_len", max_len, minimum=1)
        check_choice("unknown", unknown, ("error", "map"))
        rows = [self._ids_of(c, max_len, unknown) for c in captions]
        return torch.tensor(rows, dtype=torch.long).view(len(rows), max_len)

    def decode(self, ids: torch.Tensor | Sequence[int]) -> str:
        """Turn ids (L,) back into a space-separated caption; PAD ids are skipped."""
        ids = torch.as_tensor(ids)
        if ids.dim() != 1:
            raise ValueError(f"ids must have shape (L,), got {tuple(ids.shape)}; "
                             "decode one caption at a time")
        bad = [int(i) for i in ids if not 0 <= int(i) < len(self)]
        if bad:
            raise ValueError(f"ids: {bad} out of range; allowed 0..{len(self) - 1}")
        return " ".join(self._words[int(i)] for i in ids if int(i) != PAD)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly description, for saving inside checkpoints."""
        return {"words": list(self._words[2:]), "max_len": self.max_len}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> Vocabulary:
        """Rebuild a vocabulary saved with ``to_dict``."""
        if not isinstance(state, dict) or "words" not in state:
            raise ValueError("state must be a dict from Vocabulary.to_dict() "
                             f"with keys 'words' and 'max_len', got {state!r:.80}")
        return cls(state["words"], max_len=state.get("max_len", DEFAULT_MAX_LEN))

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Vocabulary) and self._words == other._words
                and self.max_len == other.max_len)

    __hash__ = None  # type: ignore[assignment]
