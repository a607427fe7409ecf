"""Every direction of one model: text->image, sound->image, image->text/sound, interpolation.

Lesson: 05 Text-to-image GAN (sampling and interpolation) and 07 Applications (retrieval).

What `mmgan sample RUN` does with the flagship:

- ``--text CAPTION``: n images of the caption, G(z, E_text(caption)).
- ``--sound FILE.wav``: n images of the sound, G(z, E_sound(spectrogram)); its nearest
  captions are printed.
- ``--image FILE.png``: the nearest captions and the nearest sound by retrieval in the
  shared space (printed; the sound is written beside the output as .wav), and images
  drawn from the image's own code.
- ``--interpolate A B``: rows of images whose code slides from caption A to caption B
  along the unit sphere, one noise vector per row.
- nothing: one sample for each of n attribute combinations, canonical captions.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from mmgan_ref.data.attributes import all_combinations, default_held_out
from mmgan_ref.data.shapes import canonical_caption
from mmgan_ref.data.sound import log_spectrogram, read_wav, synthesize_sound, write_wav
from mmgan_ref.data.text import tokenize
from mmgan_ref.flagship.model import slerp

INTERPOLATION_STEPS = 8
MAX_INTERPOLATION_ROWS = 8
TOP_K = 5


def encode_captions(family, captions: list[str], what: str = "--text") -> torch.Tensor:
    """Unit codes (N, code_dim) of captions; unknown words are an error that lists them.

    Raises:
        ValueError: a caption with no words, or with words outside the vocabulary (all
            unknown words are named, and the vocabulary is printed).
    """
    vocabulary = family.vocabulary
    for caption in captions:
        if not isinstance(caption, str) or not tokenize(caption):
            raise ValueError(f"{what}: got {caption!r}; give a caption such as "
                             "'a small red circle at the top left'")
        unknown = vocabulary.unknown_words(caption)
        if unknown:
            known = ", ".join(vocabulary.words[2:])
            raise ValueError(
                f"{what} {caption!r}: unknown words: {', '.join(map(repr, unknown))}. "
                f"The shapes vocabulary has {len(vocabulary) - 2} words: {known} "
                "(in Python: mmgan_ref.data.shapes.shapes_vocabulary().words)")
    return family.encode("text", vocabulary.encode_batch(captions))


def caption_gallery() -> tuple[list[str], torch.Tensor]:
    """The canonical captions of all 96 combinations and their attributes (96, 4)."""
    combos = torch.tensor(all_combinations())
    return [canonical_caption(c) for c in combos], combos


def nearest_captions(family, codes: torch.Tensor, k: int = TOP_K) -> list[list[tuple[str, float]]]:
    """For each code (N, code_dim), the k nearest canonical captions with cosine similarity."""
    captions, _ = caption_gallery()
    gallery = encode_captions(family, captions)
    similarity = codes.to(gallery.device) @ gallery.T  # (N, 96), unit codes
    top = similarity.topk(k, dim=1)
    return [[(captions[int(i)], float(v)) for v, i in zip(vals, idx, strict=True)]
            for vals, idx in zip(top.values.cpu(), top.indices.cpu(), strict=True)]


def nearest_sound(family, code: torch.Tensor, seed: int = 0) -> tuple[torch.Tensor, str]:
    """Image -> sound by retrieval: one synthesized sound per combination, the nearest wins.

    Returns:
        (waveform (T,), canonical caption of the retrieved sound's scene)
    """
    captions, combos = caption_gallery()
    sounds = synthesize_sound(combos, seed=seed)  # (96, T)
    codes = family.encode("sound", log_spectrogram(sounds))
    best = int((codes @ code.to(codes.device)).argmax())
    return sounds[best], captions[best]


def sound_code(family, path: str | Path) -> torch.Tensor:
    """The unit code (1, code_dim) of a WAV file (resampled to 8 kHz, cut to 0.25 s)."""
    return family.encode("sound", log_spectrogram(read_wav(path))[None])


def load_png(path: str | Path, image_size: int) -> torch.Tensor:
    """A PNG file as one image (1, 3, S, S) in [-1, 1], resized (antialiased) to S."""
    import matplotlib.image

    path = Path(path)
    if path.suffix.lower() != ".png" or not path.is_file():
        raise ValueError(f"--image: no PNG file at {str(path)!r}; give a .png image")
    array = torch.as_tensor(matplotlib.image.imread(str(path)), dtype=torch.float32)
    if array.dim() == 2:
        array = array[..., None].expand(-1, -1, 3)
    image = array[..., :3].permute(2, 0, 1)[None]  # (1, 3, H, W) in [0, 1]; alpha dropped
    image = F.interpolate(image, size=(image_size, image_size), mode="bilinear",
                          antialias=True, align_corners=False)
    return image.clamp(0, 1) * 2 - 1


def codes_for(family, n: int, text: str | None = None, sound: str | None = None,
              image: str | None = None) -> torch.Tensor:
    """Codes (n, code_dim) for one condition (repeated), or n canonical captions in turn."""
    if sum(x is not None for x in (text, sound, image)) > 1:
        raise ValueError("give one of --text, --sound, --image, not several")
    if text is not None:
        code = encode_captions(family, [text])
    elif sound is not None:
        code = sound_code(family, sound)
    elif image is not None:
        code = family.encode("image", load_png(image, family.config.image_size))
    else:
        captions, _ = caption_gallery()
        return encode_captions(family, [captions[i % len(captions)] for i in range(n)])
    return code.expand(n, -1)


def interpolation_codes(family, caption_a: str, caption_b: str,
                        steps: int = INTERPOLATION_STEPS) -> torch.Tensor:
    """Codes (steps, code_dim) on the sphere from caption_a's code to caption_b's."""
    a, b = encode_captions(family, [caption_a, caption_b], what="--interpolate")
    return slerp(a, b, torch.linspace(0, 1, steps, device=a.device))


def _save(images: torch.Tensor, nrow: int, title: str, path: Path) -> Path:
    import matplotlib.pyplot as plt

    from mmgan_ref.utils import atomic_savefig
    from mmgan_ref.viz import plot_image_grid

    fig = plot_image_grid(images.float().cpu(), nrow, title)
    path = atomic_savefig(fig, path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def sample_to_file(family, generator, path: Path, n: int, seed: int, text: str | None = None,
                   sound: str | None = None, image: str | None = None,
                   interpolate: tuple[str, str] | None = None) -> list[str]:
    """What `mmgan sample` does with a flagship run; returns the lines to show."""
    noise = torch.Generator().manual_seed(seed)
    if interpolate is not None:
        if any(x is not None for x in (text, sound, image)):
            raise ValueError("--interpolate takes no --text, --sound or --image")
        if len(interpolate) != 2:
            raise ValueError(f"--interpolate takes two captions, got {len(interpolate)}")
        rows = max(1, min(MAX_INTERPOLATION_ROWS, n // INTERPOLATION_STEPS))
        codes = interpolation_codes(family, *interpolate).repeat(rows, 1)
        z = family.noise(rows, noise).repeat_interleave(INTERPOLATION_STEPS, dim=0)
        images = family.sample(len(codes), codes, noise, network=generator, z=z)
        _save(images, rows, f"{interpolate[0]!r} -> {interpolate[1]!r}", path)
        return [f"wrote {rows} interpolation rows of {INTERPOLATION_STEPS} steps to {path}"]
    codes = codes_for(family, n, text=text, sound=sound, image=image)
    images = family.sample(n, codes, noise, network=generator)
    nrow = max(1, round(n ** 0.5))
    lines = []
    if text is not None:
        title = f"{text!r} ({n} samples, seed {seed})"
        held_out = _held_out_note(text)
        if held_out:
            lines.append(held_out)
    elif sound is not None:
        title = f"sound {Path(sound).name} ({n} samples, seed {seed})"
        lines += _caption_lines("the sound is nearest to", nearest_captions(family, codes[:1])[0])
    elif image is not None:
        title = f"drawn from the code of {Path(image).name} ({n} samples)"
        lines += _caption_lines("nearest captions", nearest_captions(family, codes[:1])[0])
        waveform, heard = nearest_sound(family, codes[0], seed)
        wav_path = write_wav(path.with_suffix(".wav"), waveform)
        lines.append(f"nearest sound: the sound of {heard!r}, written to {wav_path}")
    else:
        title = f"{n} samples, one per attribute combination (canonical captions)"
    _save(images, nrow, title, path)
    return lines + [f"wrote {n} samples to {path}"]


def _caption_lines(header: str, ranked: list[tuple[str, float]]) -> list[str]:
    return [f"{header}:"] + [f"  {i}. {caption}  (cosine {sim:.3f})"
                             for i, (caption, sim) in enumerate(ranked, start=1)]


def _held_out_note(text: str) -> str | None:
    from mmgan_ref.data.shapes import parse_caption

    try:
        attrs = tuple(parse_caption(text).tolist())
    except ValueError:
        return None  # a partial caption: the model still draws something
    if attrs in set(default_held_out()):
        return "note: this combination was held out of training (compositional generalisation)"
    return None
