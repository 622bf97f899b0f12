"""Mixing styles: where each style puts instruments in the stereo field, and the room it sends them to.

The one home of this knowledge: `training.synthetic` renders its training mixes with it, and `mono2stereo mix`
places real stems with it. A pan is a position in [-1, 1] (-1 hard left, 0 centre, 1 hard right).

- `modern`: kick, snare, bass and lead near the centre; hats, chords and pads spread to a side (0.3 to 0.8).
- `vintage` (1960s stereo): every instrument hard left, centre or hard right; the drum kit on one track.
- `wide`: everything far out (0.6 to 1.0) but the kick (within 0.3 of the centre).
- `narrow`: everything within 0.15 of the centre.

Each style also sets the largest time difference between the ears (the far channel hears a source up to
`max_itd_s` later, in proportion to its pan) and a room: how much of the music is sent to a stereo reverb, and
how alike its left and right impulse responses are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

MIXING_STYLES = ("modern", "vintage", "wide", "narrow")
INSTRUMENTS = ("kick", "snare", "hats", "bass", "chords", "lead", "pads")
DRUM_KIT = ("kick", "snare", "hats")
CENTRED_IN_MODERN = ("kick", "snare", "bass", "lead")
ROOM_RT60_RANGE_S = (0.6, 1.8)  # reverberation time of the room, drawn per mix


@dataclass(frozen=True)
class StyleRoom:
    """A style's time differences and room: interaural delay at a hard pan, reverb send range, L/R correlation."""

    max_itd_s: float
    reverb_send_range: tuple[float, float]
    reverb_correlation: float  # 1: the same impulse response on both sides, 0: independent ones


STYLE_ROOMS = {
    "modern": StyleRoom(0.0003, (0.2, 0.35), 0.0),
    "vintage": StyleRoom(0.0, (0.1, 0.2), 1.0),
    "wide": StyleRoom(0.0007, (0.3, 0.45), 0.0),
    "narrow": StyleRoom(0.0001, (0.05, 0.15), 0.9),
}


@dataclass
class Placement:
    """Where a mixing style puts the instruments: pans in [-1, 1], interaural delays, reverb."""

    pans: dict[str, float]
    max_itd_s: float
    reverb_send: float
    reverb_correlation: float  # 1: the same impulse response on both sides, 0: independent ones


def uniform(generator: torch.Generator, low: float, high: float) -> float:
    """One number drawn uniformly from [low, high)."""
    return low + (high - low) * torch.rand((), generator=generator).item()


def random_sign(generator: torch.Generator) -> float:
    """-1.0 or 1.0 with equal chance."""
    return 1.0 if torch.rand((), generator=generator).item() < 0.5 else -1.0


def check_style(style: str) -> str:
    """`style` if it is a mixing style, else a ValueError naming the known ones."""
    if style not in MIXING_STYLES:
        raise ValueError(f"unknown mixing style {style!r}; choose one of {', '.join(MIXING_STYLES)}")
    return style


def draw_pans(style: str, instruments: Sequence[str], generator: torch.Generator) -> list[float]:
    """A pan for each entry of `instruments` (names from `INSTRUMENTS`, repeats allowed) in a mixing style."""
    check_style(style)
    unknown = sorted(set(instruments) - set(INSTRUMENTS))
    if unknown:
        raise ValueError(f"unknown instruments {unknown}; a mixing style places {', '.join(INSTRUMENTS)}")
    pans = [0.0] * len(instruments)
    if style == "modern":
        centred = [i for i, name in enumerate(instruments) if name in CENTRED_IN_MODERN]
        spread = [i for i, name in enumerate(instruments) if name not in CENTRED_IN_MODERN]
        for i in centred:
            pans[i] = uniform(generator, -0.05, 0.05)
        for i in spread:
            pans[i] = random_sign(generator) * uniform(generator, 0.3, 0.8)
    elif style == "vintage":
        positions = (-1.0, 0.0, 1.0)
        for i in range(len(instruments)):
            pans[i] = positions[int(torch.randint(3, (), generator=generator))]
        kit = [i for i, name in enumerate(instruments) if name in DRUM_KIT]
        for i in kit:  # the drum kit on one track
            pans[i] = pans[kit[-1]]
    elif style == "wide":
        for i in range(len(instruments)):
            pans[i] = random_sign(generator) * uniform(generator, 0.6, 1.0)
        for i, name in enumerate(instruments):
            if name == "kick":
                pans[i] = uniform(generator, -0.3, 0.3)
    else:  # narrow
        for i in range(len(instruments)):
            pans[i] = uniform(generator, -0.15, 0.15)
    return pans


def draw_reverb_send(style: str, generator: torch.Generator) -> float:
    """How much of the music a style sends to its room."""
    low, high = STYLE_ROOMS[check_style(style)].reverb_send_range
    return uniform(generator, low, high)


def style_placement(style: str, generator: torch.Generator) -> Placement:
    """Draw a placement of every instrument of `INSTRUMENTS` for a mixing style."""
    pans = dict(zip(INSTRUMENTS, draw_pans(style, INSTRUMENTS, generator)))
    room = STYLE_ROOMS[style]
    return Placement(pans, room.max_itd_s, draw_reverb_send(style, generator), room.reverb_correlation)


def room_responses(
    correlation: float, rt60_s: float, length: int, sampling_rate: int, noise: torch.Tensor
) -> torch.Tensor:
    """Left and right impulse responses `(2, length)` of a room: decaying noise, `correlation` alike.

    `noise` is `(3, length)` standard normal: the part both sides share, then each side's own.
    """
    t = torch.arange(length, device=noise.device) / sampling_rate
    decay = torch.exp(-6.9 * t / rt60_s)  # -60 dB at rt60
    shared, own_left, own_right = noise
    side_weight = math.sqrt(1 - correlation**2)
    responses = torch.stack(
        [correlation * shared + side_weight * own_left, correlation * shared + side_weight * own_right]
    )
    return responses * decay / math.sqrt(length / 4)


__all__ = [
    "MIXING_STYLES",
    "INSTRUMENTS",
    "DRUM_KIT",
    "ROOM_RT60_RANGE_S",
    "STYLE_ROOMS",
    "Placement",
    "StyleRoom",
    "check_style",
    "draw_pans",
    "draw_reverb_send",
    "random_sign",
    "room_responses",
    "style_placement",
    "uniform",
]
