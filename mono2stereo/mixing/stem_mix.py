"""`mix`: stems in, a stereo mix out, each stem placed by a mixing style; the mix folds down to the stems' sum.

Every stem keeps its own mid: its part of the mix is `L, R = x + s, x - s` for the stem `x` and a side `s` that holds

- its position `p` (-1 left to 1 right) by a mid-preserving pan law, `s = -p x`: `L = (1 - p) x`, `R = (1 + p) x`,
  so a stem folds down to itself wherever it sits (a hard-panned stem is 6 dB up in its channel);
- its time difference: the far channel hears the stem up to the style's `max_itd_s` later, in proportion to `|p|`
  (the side of that delayed pair; the mid stays `x`);
- where the stem is polyphonic (`polyphony.py`), the upmixer's own image of it: the side of `upmix(x)` (whose mid
  is `x`), times `1 - |p|`, so a stem panned into one speaker stays a point there.

The shared room adds the side of a stereo reverb of all the stems (its mid, which would change the fold-down, is
left out: a room whose sides are alike adds nothing). So `(L + R) / 2` is the sum of the stems, times the one gain
that keeps the peaks below full scale.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from scipy.signal import oaconvolve

from ..audio import CHANNELS_FIRST, from_mid_side, left_right, mid_side, peak_gain, side
from ..inference.audio_io import AudioError, check_audio, fold_to_mono
from .polyphony import POLYPHONIC_ABOVE, polyphony
from .roles import ROLE_INSTRUMENTS, check_role, role_from_name
from .styles import (
    CENTRED_IN_MODERN,
    ROOM_RT60_RANGE_S,
    STYLE_ROOMS,
    check_style,
    draw_pans,
    draw_reverb_send,
    room_responses,
    uniform,
)

POSITION_FRAME_SECONDS = 0.25  # the hop of the measured position of each stem over time
SILENT_BELOW_DB = -50.0  # frames this far below a stem's loudest are silent: no position
UPMIX_SEED_STRIDE = 1000  # stem i of a mix with seed n is upmixed with seed n * stride + i
Progress = Callable[[int, int], None]


@dataclass
class StemPlacement:
    """Where one stem went: its role, pan, far-channel delay, polyphony and share of the upmixer's image."""

    name: str
    role: str
    pan: float
    delay_ms: float
    polyphony: float
    upmixed: bool
    image: float  # the share of the upmixer's side the stem keeps: 1 - |pan| when upmixed, else 0
    positions: list[float | None] = field(default_factory=list)  # measured, one per POSITION_FRAME_SECONDS


@dataclass
class MixPlacement:
    """Everything one mix did, enough to see and repeat it: style, seed, each stem's place, the room, the gain."""

    style: str
    seed: int
    sampling_rate: int
    num_samples: int
    upmixer: str | None
    max_itd_ms: float
    reverb_send: float
    reverb_correlation: float
    rt60_s: float
    peak_gain: float
    stems: list[StemPlacement]
    position_frame_seconds: float = POSITION_FRAME_SECONDS

    def to_dict(self) -> dict:
        """The placement as plain JSON-ready values."""
        return asdict(self)


@dataclass
class MixOutput:
    """The result of `mix`.

    Args:
        audio: float32 stereo `(samples, 2)`, or `(variants, samples, 2)` with several variants.
        sampling_rate: the stems' rate in Hz.
        peak_gain: the one gain per variant that kept peaks below full scale (1.0 when none was needed); the
            fold-down `(L + R) / 2` is the sum of the stems times it.
        placements: what each variant did (`MixPlacement.to_dict()` for a report).
    """

    audio: np.ndarray
    sampling_rate: int
    peak_gain: np.ndarray
    placements: list[MixPlacement]


def prepare_stems(stems: Mapping[str, np.ndarray], sampling_rate: int, pad: bool = False) -> dict[str, np.ndarray]:
    """Stems as float32 mono of one length (stereo folded); different lengths fail unless `pad` adds silence."""
    if not stems:
        raise AudioError("no stems to mix; give at least one")
    mono = {}
    for name, audio in stems.items():
        label = f"stem {name!r}"
        mono[name] = check_audio(fold_to_mono(np.asarray(audio), name=label), sampling_rate, name=label)
    lengths = {name: audio.shape[0] for name, audio in mono.items()}
    longest = max(lengths.values())
    if len(set(lengths.values())) > 1:
        if not pad:
            listed = ", ".join(
                f"{name} {count / sampling_rate:.3f} s ({count} samples)" for name, count in lengths.items()
            )
            raise AudioError(
                f"stems differ in length: {listed}; trim them to one length, or pad the shorter ones with silence "
                "(--pad, pad=True)"
            )
        mono = {name: np.pad(audio, (0, longest - audio.shape[0])) for name, audio in mono.items()}
    return mono


def stem_roles(names: list[str], roles: Mapping[str, str] | None = None) -> dict[str, str]:
    """Each stem's role: given in `roles`, else from its name (`role_from_name`)."""
    roles = dict(roles or {})
    unknown = sorted(set(roles) - set(names))
    if unknown:
        raise ValueError(f"roles given for {unknown}, which are not among the stems {names}")
    return {name: check_role(roles[name]) if name in roles else role_from_name(name) for name in names}


def draw_stem_pans(style: str, roles: list[str], generator: torch.Generator) -> list[float]:
    """A pan per stem from the style; in `modern` and `wide` the stems set to the sides alternate left and right."""
    instruments = [ROLE_INSTRUMENTS[role] for role in roles]
    pans = draw_pans(style, instruments, generator)
    if style in ("modern", "wide"):
        centred = CENTRED_IN_MODERN if style == "modern" else ("kick",)
        sides = [i for i, name in enumerate(instruments) if name not in centred]
        first = 1.0 if sides and pans[sides[0]] >= 0 else -1.0
        for order, i in enumerate(sides):  # a song's stems are few and large: keep both sides filled
            pans[i] = abs(pans[i]) * first * (-1.0) ** order
    return pans


def panned_side(audio: np.ndarray, pan: float, delay: int) -> np.ndarray:
    """The side of `audio` panned to `pan` with the far channel `delay` samples late; its mid is `audio`."""
    if delay == 0:
        return (-pan * audio).astype(np.float32)
    late = np.concatenate([np.zeros(delay, dtype=np.float32), audio[:-delay]]) if delay < audio.shape[0] else 0 * audio
    left, right = (audio, late) if pan < 0 else (late, audio)
    return side(np.stack([(1 - pan) * left, (1 + pan) * right], axis=1))


def upmixed_side(pipeline, audio: np.ndarray, sampling_rate: int, style: str, seed: int) -> np.ndarray:
    """The side of the upmixer's stereo for `audio`, scaled back to the loudness of its mid (which is `audio`).

    `pipeline` is an `inference.Upmixer`; a generative one gets the seed, and the style when it knows it."""
    if pipeline.generative:
        output = pipeline(audio, sampling_rate, style=style if style in pipeline.styles else None, seed=seed)
    else:
        output = pipeline(audio, sampling_rate)
    stereo = output.audio.astype(np.float64)
    mid, upmixed = mid_side(stereo)
    scale = float(mid @ audio) / max(float(audio.astype(np.float64) @ audio), 1e-30)  # the upmixer's peak gain
    return (upmixed / scale).astype(np.float32) if scale > 1e-6 else np.zeros_like(audio)


def room_side(send: np.ndarray, style: str, sampling_rate: int, generator: torch.Generator) -> tuple[np.ndarray, dict]:
    """The side of the style's stereo room for `send`, and the room's settings."""
    room = STYLE_ROOMS[style]
    level = draw_reverb_send(style, generator)
    rt60 = uniform(generator, *ROOM_RT60_RANGE_S)
    length = max(1, int(min(rt60, send.shape[0] / sampling_rate) * sampling_rate))
    noise = torch.randn((3, length), generator=generator)
    responses = room_responses(room.reverb_correlation, rt60, length, sampling_rate, noise).numpy()  # (2, length)
    settings = {"reverb_send": level, "reverb_correlation": room.reverb_correlation, "rt60_s": rt60}
    if room.reverb_correlation >= 1.0:
        return np.zeros_like(send), settings
    wet_side = oaconvolve(send, side(responses, CHANNELS_FIRST))[: send.shape[0]]
    return (level * wet_side).astype(np.float32), settings


def positions_over_time(audio: np.ndarray, side: np.ndarray, sampling_rate: int) -> list[float | None]:
    """A stem's measured position per frame, `(rms R - rms L) / (rms R + rms L)`; None where it is silent."""
    hop = max(1, round(POSITION_FRAME_SECONDS * sampling_rate))
    count = -(-audio.shape[0] // hop)
    padding = count * hop - audio.shape[0]

    def rms(signal: np.ndarray) -> np.ndarray:
        return np.sqrt(np.mean(np.pad(signal, (0, padding)).reshape(count, hop).astype(np.float64) ** 2, axis=1))

    left, right = (rms(channel) for channel in left_right(from_mid_side(audio, side)))
    level = rms(audio)
    audible = level > level.max() * 10 ** (SILENT_BELOW_DB / 20) if level.max() > 0 else np.zeros(count, bool)
    balance = (right - left) / np.maximum(right + left, 1e-30)
    return [round(float(value), 4) if keep else None for value, keep in zip(balance, audible)]


def mix(
    stems: Mapping[str, np.ndarray],
    sampling_rate: int,
    style: str = "modern",
    seed: int | None = None,
    model=None,
    roles: Mapping[str, str] | None = None,
    num_variants: int = 1,
    pad: bool = False,
    upmix: bool = True,
    device: str | None = None,
    progress: Progress | None = None,
) -> MixOutput:
    """Mix mono (or stereo, folded) stems `{name: (samples,)}` at `sampling_rate` into stereo in a mixing style.

    Args:
        style: `modern`, `vintage`, `wide` or `narrow` (`mono2stereo.mixing.styles`).
        seed: repeats a placement; None draws one (the placements report it). Variant `k` uses `seed + k`.
        model: the upmixer for polyphonic stems, as `mono2stereo.upmix` takes it (a folder, a Hub id, `dsp:NAME`,
            a loaded pipeline, or None for the default model); loaded only when a stem is polyphonic.
        roles: a role per stem name (`drums`, `bass`, `vocals`, ...); the others come from their names.
        num_variants: independent placements; more than one returns `(variants, samples, 2)`.
        pad: pad shorter stems with silence instead of failing.
        upmix: False places every stem as a point, without the upmixer's image.
        progress: called with (stems done, stems in all) as the mix is made.
    """
    check_style(style)
    if not isinstance(num_variants, int) or num_variants < 1:
        raise ValueError(f"num_variants={num_variants!r} must be an integer >= 1")
    audio = prepare_stems(stems, sampling_rate, pad)
    names = list(audio)
    role_of = stem_roles(names, roles)
    scores = {name: polyphony(audio[name], sampling_rate) for name in names}
    polyphonic = [name for name in names if upmix and scores[name] > POLYPHONIC_ABOVE]
    pipeline = None
    if polyphonic:
        from ..inference.pipeline import load_pipeline

        pipeline = load_pipeline(model, device)
    if seed is None:
        seed = secrets.randbelow(2**31)
    dry = np.zeros(audio[names[0]].shape[0], dtype=np.float64)
    for name in names:
        dry += audio[name]
    dry = dry.astype(np.float32)
    outputs, gains, placements = [], [], []
    total, done = num_variants * len(names), 0
    for variant in range(num_variants):
        variant_seed = seed + variant
        generator = torch.Generator().manual_seed(variant_seed)
        pans = draw_stem_pans(style, [role_of[name] for name in names], generator)
        max_itd = STYLE_ROOMS[style].max_itd_s
        stems_side, stem_placements = np.zeros_like(dry), []
        for index, (name, pan) in enumerate(zip(names, pans)):
            delay = int(round(abs(pan) * max_itd * sampling_rate))
            stem_side = panned_side(audio[name], pan, delay)
            image = 0.0
            if name in polyphonic:
                image = 1.0 - abs(pan)
                if image > 0:
                    stem_seed = variant_seed * UPMIX_SEED_STRIDE + index
                    stem_side += image * upmixed_side(pipeline, audio[name], sampling_rate, style, stem_seed)
            stems_side += stem_side
            positions = positions_over_time(audio[name], stem_side, sampling_rate)
            stem_placements.append(
                StemPlacement(
                    name,
                    role_of[name],
                    round(pan, 4),
                    round(1000 * delay / sampling_rate, 4),
                    round(scores[name], 4),
                    name in polyphonic,
                    round(image, 4),
                    positions,
                )  # fmt: skip
            )
            done += 1
            if progress is not None:
                progress(done, total)
        reverb, room = room_side(dry, style, sampling_rate, generator)
        stereo = from_mid_side(dry, stems_side) + from_mid_side(np.zeros_like(reverb), reverb)  # the room: side only
        gain = peak_gain(stereo)
        outputs.append((stereo * np.float32(gain)).astype(np.float32))
        gains.append(gain)
        placements.append(
            MixPlacement(
                style,
                variant_seed,
                sampling_rate,
                dry.shape[0],
                pipeline.name if pipeline else None,
                round(1000 * max_itd, 4),
                round(room["reverb_send"], 4),
                room["reverb_correlation"],
                round(room["rt60_s"], 4),
                gain,
                stem_placements,
            )  # fmt: skip
        )
    stacked = np.stack(outputs)
    return MixOutput(stacked[0] if num_variants == 1 else stacked, sampling_rate, np.array(gains), placements)


__all__ = ["MixOutput", "MixPlacement", "StemPlacement", "mix", "prepare_stems", "stem_roles", "draw_stem_pans"]
