"""The sound of a shapes scene: a short tone whose pitch, timbre, loudness and rhythm encode it.

Lesson: 04 Encoding modalities into one space (audio as a log-spectrogram).

A scene sounds for 0.25 s at 8 kHz (2,000 samples):

* shape -> pitch: circle 262 Hz (C4), square 392 Hz (G4), triangle 587 Hz (D5);
* colour -> timbre, the weights of harmonics 1..6: red a pure sine, green odd harmonics
  (clarinet-like), blue all harmonics 1/k (sawtooth-like), yellow strong even harmonics;
* size -> loudness: small quiet, large loud;
* position -> rhythm: top left 1 pulse, top right 2, bottom left 3, bottom right 4.

Each sound gets slight seeded jitter of pitch, loudness and phase, plus faint noise, so two
sounds of one scene are never identical. Models hear it through ``log_spectrogram``.
WAV files go through the standard library's ``wave`` module (16-bit PCM).
"""

from __future__ import annotations

import io
import math
import os
import wave
from pathlib import Path

import torch

from mmgan_ref.data.attributes import NUM_VALUES
from mmgan_ref.data.toy2d import make_generator
from mmgan_ref.utils import atomic_write_bytes, check_int, check_tensor

SAMPLE_RATE = 8000
DURATION = 0.25
NUM_SAMPLES = int(SAMPLE_RATE * DURATION)  # 2000
PITCHES = (261.63, 392.00, 587.33)  # Hz, by shape
HARMONICS = torch.tensor([[1.0, 0.0, 0.0, 0.0, 0.0, 0.0],         # red: sine
                          [1.0, 0.0, 1 / 3, 0.0, 1 / 5, 0.0],      # green: odd harmonics
                          [1.0, 1 / 2, 1 / 3, 1 / 4, 1 / 5, 1 / 6],  # blue: sawtooth-like
                          [1.0, 0.9, 0.0, 0.7, 0.0, 0.5]])         # yellow: even harmonics
LOUDNESS = (0.1, 0.3)  # RMS-normalised amplitude by size; peaks stay under 1
PULSES = (1, 2, 3, 4)  # by position
PULSE_DUTY = 0.75  # fraction of each rhythmic slot that sounds
PITCH_JITTER, LOUDNESS_JITTER, NOISE_STD = 0.02, 0.08, 0.003
N_FFT, HOP_LENGTH, LOG_EPS = 128, 64, 1e-4


def synthesize_sound(attrs: torch.Tensor, generator: torch.Generator | None = None,
                     seed: int | None = None) -> torch.Tensor:
    """Synthesize the sound of scenes.

    Args:
        attrs: LongTensor (B, 4) or (4,): attribute indices (shape, colour, size, position).
        generator, seed: the jitter's randomness (at most one; neither means seed 0).
    Returns:
        float32 (B, NUM_SAMPLES) or (NUM_SAMPLES,) in [-1, 1].
    """
    attrs = torch.as_tensor(attrs).cpu()  # sounds are made on the CPU, like the generator
    single = attrs.dim() == 1
    attrs = check_tensor("attrs", attrs.view(1, -1) if single else attrs, ("B", 4), "int")
    if ((attrs < 0) | (attrs >= torch.tensor(NUM_VALUES))).any():
        raise ValueError(f"attrs: every row must hold indices below {NUM_VALUES} "
                         "(shape, colour, size, position)")
    rng = make_generator(seed, generator)
    batch = attrs.shape[0]
    shape, colour, size, position = attrs.long().unbind(1)
    t = torch.arange(NUM_SAMPLES, dtype=torch.float32) / SAMPLE_RATE  # (T,)

    def jitter(amount: float) -> torch.Tensor:  # (B,) factors in [1 - amount, 1 + amount]
        return 1 + amount * (2 * torch.rand(batch, generator=rng) - 1)

    pitch = torch.tensor(PITCHES)[shape] * jitter(PITCH_JITTER)
    loud = torch.tensor(LOUDNESS)[size] * jitter(LOUDNESS_JITTER)
    phases = 2 * math.pi * torch.rand(batch, HARMONICS.shape[1], generator=rng)
    weights = HARMONICS / HARMONICS.norm(dim=1, keepdim=True)  # equal RMS for every timbre
    weights = weights[colour] * math.sqrt(2)  # (B, H); sqrt 2: a unit-RMS sine

    theta = pitch[:, None] * (2 * math.pi * t)  # (B, T), phase of the fundamental
    tone = torch.zeros(batch, NUM_SAMPLES)
    for h in range(HARMONICS.shape[1]):  # a loop over 6 harmonics keeps memory at (B, T)
        partial = torch.sin(torch.add(phases[:, h:h + 1], theta, alpha=h + 1))
        tone.addcmul_(partial, weights[:, h:h + 1])

    # Rhythm: the envelope of each pulse count, made once and picked per scene.
    pulses = torch.tensor(PULSES, dtype=torch.float32)[:, None]  # (P, 1)
    local = (t[None, :] / DURATION * pulses) % 1.0  # position inside each rhythmic slot
    envelopes = torch.where(local < PULSE_DUTY, torch.sin(math.pi * local / PULSE_DUTY) ** 2,
                            torch.zeros(()))  # (P, T)
    waveform = tone.mul_(envelopes[position]).mul_(loud[:, None])
    waveform.add_(torch.randn(batch, NUM_SAMPLES, generator=rng), alpha=NOISE_STD)
    waveform = waveform.clamp_(-1, 1)
    return waveform[0] if single else waveform


def log_spectrogram(waveform: torch.Tensor, n_fft: int = N_FFT,
                    hop_length: int = HOP_LENGTH) -> torch.Tensor:
    """Log power spectrogram with a Hann window (torch.stft, centred frames).

    Args:
        waveform: (T,) or (B, T) float.
    Returns:
        (F, Tf) or (B, F, Tf) with F = n_fft // 2 + 1 and Tf = T // hop_length + 1;
        (65, 32) for the default 2,000-sample sounds.
    """
    if not isinstance(waveform, torch.Tensor) or waveform.dim() not in (1, 2):
        got = tuple(waveform.shape) if isinstance(waveform, torch.Tensor) else type(waveform)
        raise ValueError(f"waveform must be a tensor (T,) or (B, T), got {got}")
    n_fft = check_int("n_fft", n_fft, minimum=4)
    hop_length = check_int("hop_length", hop_length, minimum=1)
    if waveform.shape[-1] <= n_fft // 2:
        raise ValueError(f"waveform has {waveform.shape[-1]} samples; needs more than "
                         f"n_fft // 2 = {n_fft // 2}")
    window = torch.hann_window(n_fft, device=waveform.device, dtype=waveform.dtype)
    spectrum = torch.stft(waveform.float(), n_fft, hop_length=hop_length, window=window,
                          center=True, return_complex=True)
    return torch.log(spectrum.abs() ** 2 + LOG_EPS)


def write_wav(path: str | os.PathLike, waveform: torch.Tensor,
              sample_rate: int = SAMPLE_RATE) -> Path:
    """Write a mono waveform (T,) in [-1, 1] as a 16-bit PCM WAV file (atomically)."""
    check_tensor("waveform", waveform, ("T",))
    sample_rate = check_int("sample_rate", sample_rate, minimum=1)
    pcm = (waveform.detach().float().clamp(-1, 1) * 32767).round().to(torch.int16)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm.numpy().astype("<i2").tobytes())
    return atomic_write_bytes(path, buffer.getvalue())


def read_wav(path: str | os.PathLike, sample_rate: int | None = SAMPLE_RATE,
             num_samples: int | None = NUM_SAMPLES) -> torch.Tensor:
    """Read a 16-bit PCM WAV file as a mono float waveform, ready for ``log_spectrogram``.

    Args:
        path: the file. Stereo is averaged to mono.
        sample_rate: resample (linearly) to this rate; None keeps the file's rate.
        num_samples: pad with zeros or cut to this length; None keeps the length.
    Returns:
        float32 (T,) in [-1, 1].
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path: no WAV file at {str(path)!r}")
    try:
        with wave.open(str(path), "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as err:
        raise ValueError(f"path: {str(path)!r} is not a readable WAV file ({err})") from None
    if width != 2:
        raise ValueError(f"path: {str(path)!r} has {8 * width}-bit samples; only 16-bit PCM "
                         "is supported (convert it, e.g. with `sox in.wav -b 16 out.wav`)")
    pcm = torch.frombuffer(bytearray(frames), dtype=torch.int16).float() / 32768
    waveform = pcm.view(-1, channels).mean(dim=1)
    if sample_rate is not None and check_int("sample_rate", sample_rate, minimum=1) != rate:
        length = max(1, round(len(waveform) * sample_rate / rate))
        waveform = torch.nn.functional.interpolate(waveform[None, None], size=length,
                                                   mode="linear", align_corners=False)[0, 0]
    if num_samples is not None:
        num_samples = check_int("num_samples", num_samples, minimum=1)
        waveform = torch.nn.functional.pad(waveform, (0, max(0, num_samples - len(waveform))))
        waveform = waveform[:num_samples]
    return waveform.contiguous()
