"""`SyntheticMixes`: procedurally arranged stereo music whose mixing style is known, synthesised in torch.

Each mix has a random tempo, key and chord progression; drums (kick, snare, hats), bass, chords, lead and pads are
rendered note by note, placed in the stereo field by a mixing style (`mono2stereo.mixing.styles`: level differences
by a constant-power pan law, small time differences) and sent to a stereo reverb (a decaying noise impulse response
per channel).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch

from ..mixing.styles import (
    INSTRUMENTS,
    MIXING_STYLES,
    ROOM_RT60_RANGE_S,
    Placement,
    room_responses,
    style_placement,
    uniform,
)

_PROGRESSIONS = ((0, 5, 3, 4), (0, 3, 4, 4), (5, 3, 0, 4), (0, 4, 5, 3), (1, 4, 0, 0))
_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)
_uniform = uniform


def _midi_to_hz(notes: torch.Tensor) -> torch.Tensor:
    return 440.0 * 2 ** ((notes - 69) / 12)


class _Renderer:
    """Renders notes of one mix into mono instrument tracks on one device."""

    def __init__(self, num_samples: int, sampling_rate: int, device: torch.device, generator: torch.Generator):
        self.num_samples, self.sampling_rate, self.device, self.generator = (
            num_samples,
            sampling_rate,
            device,
            generator,
        )

    def noise(self, *shape: int) -> torch.Tensor:
        return torch.randn(shape, generator=self.generator).to(self.device)

    def place(self, onsets_s: torch.Tensor, notes: torch.Tensor, length: int) -> torch.Tensor:
        """Overlap-add note signals `(N, length)` at their onsets into one track `(num_samples,)`."""
        track = torch.zeros(self.num_samples + length, device=self.device)
        starts = (onsets_s * self.sampling_rate).long().to(self.device)
        keep = starts < self.num_samples
        starts, notes = starts[keep], notes[keep]
        index = (starts[:, None] + torch.arange(length, device=self.device)).flatten()
        track.index_add_(0, index, notes.flatten())
        return track[: self.num_samples]

    def tones(
        self, onsets_s, freqs_hz, length_s: float, decay_s: float, harmonics: int, attack_s: float = 0.005, odd=False
    ) -> torch.Tensor:
        """Harmonic tones with an attack/decay envelope, `(N, length)`."""
        length = max(1, int(length_s * self.sampling_rate))
        t = torch.arange(length, device=self.device) / self.sampling_rate
        freqs = freqs_hz.to(self.device)[:, None, None]
        orders = torch.arange(1, harmonics + 1, device=self.device, dtype=torch.float32)
        if odd:
            orders = 2 * orders - 1
        weights = (1 / orders) * (orders * freqs < self.sampling_rate / 2)  # no aliasing above Nyquist
        wave = (torch.sin(2 * math.pi * orders * freqs * t[None, :, None]) * weights).sum(-1)
        envelope = torch.clamp(t / attack_s, max=1.0) * torch.exp(-t / decay_s)
        return self.place(onsets_s, wave * envelope, length)


class SyntheticMixes(torch.utils.data.Dataset):
    """Seeded synthetic stereo mixes: item `i` is `{"audio": (2, samples) float32, "style": tag, "id": str}`.

    The same `seed` and index always give the same mix; `device` chooses where the synthesis runs.
    """

    def __init__(
        self,
        num_mixes: int = 256,
        sampling_rate: int = 32000,
        duration_s: float = 4.0,
        styles: list[str] | tuple[str, ...] | None = None,
        seed: int = 0,
        device: str | torch.device = "cpu",
    ):
        self.styles = tuple(styles) if styles else MIXING_STYLES
        for style in self.styles:
            if style not in MIXING_STYLES:
                raise ValueError(f"unknown mixing style {style!r}; SyntheticMixes knows {', '.join(MIXING_STYLES)}")
        if num_mixes < 1 or duration_s <= 0:
            raise ValueError(f"num_mixes={num_mixes} and duration_s={duration_s} must be positive")
        self.num_mixes, self.sampling_rate, self.duration_s = num_mixes, sampling_rate, duration_s
        self.seed, self.device = seed, torch.device(device)

    def __len__(self) -> int:
        return self.num_mixes

    def __iter__(self) -> Iterator[dict]:
        return (self[i] for i in range(self.num_mixes))

    def __getitem__(self, index: int) -> dict:
        if not 0 <= index < self.num_mixes:
            raise IndexError(f"mix {index} is out of range for {self.num_mixes} mixes")
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + index)
        style = self.styles[int(torch.randint(len(self.styles), (), generator=generator))]
        audio = self.render(style, generator)
        return {"audio": audio, "style": style, "id": f"synthetic-{self.seed}-{index}"}

    def render(self, style: str, generator: torch.Generator) -> torch.Tensor:
        """One mix in `style`, `(2, samples)` float32 on `self.device`."""
        sr, num_samples = self.sampling_rate, int(round(self.duration_s * self.sampling_rate))
        render = _Renderer(num_samples, sr, self.device, generator)
        tracks = self.arrange(render, generator)
        placement = style_placement(style, generator)

        left = torch.zeros(num_samples, device=self.device)
        right = torch.zeros(num_samples, device=self.device)
        send = torch.zeros(num_samples, device=self.device)
        for name, track in tracks.items():
            pan = placement.pans[name]
            angle = (pan + 1) * math.pi / 4  # constant-power pan law
            delay = int(round(abs(pan) * placement.max_itd_s * sr))
            delayed = torch.nn.functional.pad(track, (delay, 0))[:num_samples] if delay else track
            # The far ear hears the instrument later.
            left += math.cos(angle) * (delayed if pan > 0 else track)
            right += math.sin(angle) * (delayed if pan < 0 else track)
            send += track
        wet_left, wet_right = self.reverb(send, placement, render, generator)
        mix = torch.stack([left + placement.reverb_send * wet_left, right + placement.reverb_send * wet_right])
        peak = mix.abs().max().clamp(min=1e-6)
        return (mix * (_uniform(generator, 0.5, 0.9) / peak)).float()

    def reverb(self, send: torch.Tensor, placement: Placement, render: _Renderer, generator: torch.Generator):
        """A stereo reverb: `send` convolved with decaying noise impulse responses for L and R."""
        sr = self.sampling_rate
        rt60 = _uniform(generator, *ROOM_RT60_RANGE_S)
        length = int(min(rt60, self.duration_s) * sr)
        noise = torch.stack([render.noise(length), render.noise(length), render.noise(length)])
        responses = room_responses(placement.reverb_correlation, rt60, length, sr, noise)
        size = send.shape[-1] + length
        wet = torch.fft.irfft(torch.fft.rfft(send, size) * torch.fft.rfft(responses, size), size)
        return wet[0, : send.shape[-1]], wet[1, : send.shape[-1]]

    def arrange(self, render: _Renderer, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """A random tempo, key and progression rendered into one mono track per instrument."""
        beat = 60.0 / _uniform(generator, 80, 140)
        root = 40 + int(torch.randint(12, (), generator=generator))
        scale = torch.tensor(_MAJOR if torch.rand((), generator=generator).item() < 0.6 else _MINOR)
        progression = _PROGRESSIONS[int(torch.randint(len(_PROGRESSIONS), (), generator=generator))]
        num_beats = int(math.ceil(self.duration_s / beat)) + 1
        beats = torch.arange(num_beats) * beat
        eighths = torch.arange(2 * num_beats) * beat / 2
        degrees = torch.tensor([progression[(b // 4) % 4] for b in range(num_beats)])
        chord_roots = root + scale[degrees % 7]  # per beat
        bars = beats[::4]
        bar_roots = chord_roots[::4]
        triads = torch.stack([bar_roots, bar_roots + 3 + (scale[(degrees[::4] + 2) % 7] % 2), bar_roots + 7], 1)

        tracks = {}
        kick_beats = beats[::2]
        tracks["kick"] = self.kick(render, kick_beats)
        snare_noise = render.noise(len(beats[1::2]), int(0.2 * self.sampling_rate))
        tracks["snare"] = 0.5 * render.place(beats[1::2], self.decaying(snare_noise, 0.06), snare_noise.shape[1])
        hat_noise = render.noise(len(eighths), int(0.06 * self.sampling_rate))
        hat_noise = torch.diff(hat_noise, dim=1, prepend=hat_noise[:, :1])  # brighter: a first difference
        tracks["hats"] = 0.15 * render.place(eighths, self.decaying(hat_noise, 0.015), hat_noise.shape[1])
        tracks["bass"] = 0.6 * render.tones(beats, _midi_to_hz(chord_roots - 12.0), beat, 0.3, 4)
        chord_onsets = bars.repeat_interleave(3)
        tracks["chords"] = 0.12 * render.tones(chord_onsets, _midi_to_hz(triads.flatten() + 12.0), 4 * beat, 1.0, 5)
        steps = torch.randint(-2, 3, (len(eighths),), generator=generator).cumsum(0).clamp(-7, 7) + 7
        melody = root + 24 + (steps // 7) * 12 + scale[steps % 7]
        rests = torch.rand(len(eighths), generator=generator) < 0.3
        tracks["lead"] = 0.2 * render.tones(
            eighths[~rests], _midi_to_hz(melody[~rests].float()), beat / 2, 0.2, 4, odd=True
        )
        pad_notes = torch.cat([triads + 12.0, triads + 12.1])  # a slight detune
        tracks["pads"] = 0.06 * render.tones(
            bars.repeat(2).repeat_interleave(3), _midi_to_hz(pad_notes.flatten()), 4 * beat, 2.0, 3, 0.3
        )
        return tracks

    def kick(self, render: _Renderer, onsets: torch.Tensor) -> torch.Tensor:
        """A kick drum: a sine whose pitch falls from 120 Hz to 45 Hz."""
        length = int(0.3 * self.sampling_rate)
        t = torch.arange(length, device=self.device) / self.sampling_rate
        freq = 45 + 75 * torch.exp(-t / 0.03)
        phase = 2 * math.pi * torch.cumsum(freq, 0) / self.sampling_rate
        hit = torch.sin(phase) * torch.exp(-t / 0.12)
        return 0.9 * render.place(onsets, hit.expand(len(onsets), -1), length)

    def decaying(self, noise: torch.Tensor, decay_s: float) -> torch.Tensor:
        """Noise bursts `(N, length)` with an exponential decay."""
        t = torch.arange(noise.shape[1], device=self.device) / self.sampling_rate
        return noise * torch.exp(-t / decay_s)


__all__ = ["SyntheticMixes", "MIXING_STYLES", "INSTRUMENTS", "Placement", "style_placement"]
