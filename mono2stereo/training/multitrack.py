"""`MultitrackMixes`: General-MIDI pieces rendered one instrument at a time, mixed with known placements.

Each mix is a random piece (`codec.midi.random_general_midi`): drums, bass, one or two chord parts and a lead.
Every part is rendered alone by fluidsynth, dry and centred (pan, reverb and chorus controls removed), then placed
by a mixing style of `synthetic.style_placement` (constant-power pan law, a time difference on the far side) and
sent to a stereo reverb. In the `vintage` style the reverb return follows its part's pan (a mono chamber per
track, as on 1960s records); in the others it is a stereo room. An example carries the mix, its style, and each
stem with its pan, and the stems sum to the mix. The same seed and index give the same audio.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import mido
import numpy as np
import torch

from ..audio import fold
from .codec.midi import DRUM_CHANNEL, random_general_midi
from .codec.render import find_soundfont, render_midi
from .synthetic import MIXING_STYLES, _uniform, style_placement

# fluid-soundfont-gm's bank first: far richer than TimGM6mb, which tests use.
RICH_SOUNDFONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2",)
DRY_CONTROLS = {10: 64, 91: 0, 93: 0}  # pan centre, no reverb send, no chorus send


def stem_name(track: mido.MidiTrack, index: int) -> str:
    """The part a track plays, by its channel: drums, bass (channel 0), chords (1-3) or lead."""
    channels = {message.channel for message in track if hasattr(message, "channel")}
    if DRUM_CHANNEL in channels:
        return "drums"
    if 0 in channels:
        return "bass"
    if channels & {1, 2, 3}:
        return f"chords{min(channels)}"
    return "lead"


# Which instrument of synthetic.style_placement's table gives each stem its place.
PLACEMENT_OF_STEM = {"drums": "hats", "bass": "bass", "chords1": "chords", "chords2": "pads", "lead": "lead"}


def dry_stems(midi: mido.MidiFile) -> dict[str, mido.MidiFile]:
    """One MIDI file per part, with the tempo track, its pan centred and its reverb and chorus sends removed."""
    stems = {}
    for index, track in enumerate(midi.tracks[1:], start=1):
        dry = mido.MidiTrack()
        for message in track:
            if message.type == "control_change" and message.control in DRY_CONTROLS:
                message = message.copy(value=DRY_CONTROLS[message.control])
            dry.append(message)
        single = mido.MidiFile(type=1, ticks_per_beat=midi.ticks_per_beat)
        single.tracks.extend([midi.tracks[0], dry])
        stems[stem_name(track, index)] = single
    return stems


class MultitrackMixes(torch.utils.data.Dataset):
    """Seeded mixes of rendered General-MIDI stems: item `i` is
    `{"audio": (2, n), "style": tag, "id": str, "stems": {name: (2, n)}, "positions": {name: pan in [-1, 1]}}`.
    """

    def __init__(
        self,
        num_mixes: int = 256,
        sampling_rate: int = 32000,
        duration_s: float = 4.0,
        styles: list[str] | tuple[str, ...] | None = None,
        seed: int = 0,
        soundfont: str | Path | None = None,
    ):
        self.styles = tuple(styles) if styles else MIXING_STYLES
        for style in self.styles:
            if style not in MIXING_STYLES:
                raise ValueError(f"unknown mixing style {style!r}; MultitrackMixes knows {', '.join(MIXING_STYLES)}")
        if num_mixes < 1 or duration_s <= 0:
            raise ValueError(f"num_mixes={num_mixes} and duration_s={duration_s} must be positive")
        self.num_mixes, self.sampling_rate, self.duration_s, self.seed = num_mixes, sampling_rate, duration_s, seed
        rich = [Path(p) for p in RICH_SOUNDFONTS if Path(p).is_file()]
        self.soundfont = Path(soundfont) if soundfont else (rich[0] if rich else find_soundfont())

    def __len__(self) -> int:
        return self.num_mixes

    def __iter__(self) -> Iterator[dict]:
        return (self[i] for i in range(self.num_mixes))

    def __getitem__(self, index: int) -> dict:
        if not 0 <= index < self.num_mixes:
            raise IndexError(f"mix {index} is out of range for {self.num_mixes} mixes")
        piece_seed = self.seed * 1_000_003 + index
        generator = torch.Generator().manual_seed(piece_seed)
        style = self.styles[int(torch.randint(len(self.styles), (), generator=generator))]
        tracks = self.render_stems(random_general_midi(piece_seed, self.duration_s + 1.0))
        stems, positions = self.mix(tracks, style, generator)
        audio = sum(stems.values())
        return {
            "audio": audio,
            "style": style,
            "id": f"multitrack-{self.seed}-{index}",
            "stems": stems,
            "positions": positions,
        }

    def render_stems(self, midi: mido.MidiFile) -> dict[str, np.ndarray]:
        """Each part rendered alone as mono float32 `(n,)`, all cut to the mix's length."""
        length = int(round(self.duration_s * self.sampling_rate))
        tracks = {}
        for name, single in dry_stems(midi).items():
            mono = fold(render_midi(single, self.sampling_rate, self.soundfont))
            tracks[name] = np.pad(mono, (0, max(0, length - len(mono))))[:length].astype(np.float32)
        return tracks

    def mix(self, tracks: dict[str, np.ndarray], style: str, generator: torch.Generator):
        """Place and reverberate each track in `style`: the stereo stems `(2, n)` and each stem's pan."""
        sr = self.sampling_rate
        placement = style_placement(style, generator)
        count = len(next(iter(tracks.values())))
        rt60 = _uniform(generator, 0.6, 1.8)
        ir_length = int(min(rt60, self.duration_s) * sr)
        t = np.arange(ir_length) / sr
        decay = np.exp(-6.9 * t / rt60) / math.sqrt(ir_length / 4)
        noise = torch.randn((3, ir_length), generator=generator).numpy()
        mixed = placement.reverb_correlation
        side = math.sqrt(1 - mixed**2)
        responses = np.stack([mixed * noise[0] + side * noise[1], mixed * noise[0] + side * noise[2]]) * decay
        size = 1 << int(np.ceil(np.log2(count + ir_length)))
        spectra = np.fft.rfft(responses, size)
        stems, positions = {}, {}
        for name, track in tracks.items():
            pan = placement.pans[PLACEMENT_OF_STEM.get(name, "lead")]
            angle = (pan + 1) * math.pi / 4  # constant-power pan law
            gains = np.array([math.cos(angle), math.sin(angle)])
            delay = int(round(abs(pan) * placement.max_itd_s * sr))
            delayed = np.pad(track, (delay, 0))[:count] if delay else track
            # The far ear hears the instrument later.
            dry = np.stack([gains[0] * (delayed if pan > 0 else track), gains[1] * (delayed if pan < 0 else track)])
            wet = np.fft.irfft(np.fft.rfft(track, size) * spectra, size)[:, :count]
            if style == "vintage":  # the chamber return sits with its track
                wet = wet * gains[:, None]
            stems[name] = (dry + placement.reverb_send * wet).astype(np.float32)
            positions[name] = float(pan)
        peak = max(float(np.abs(sum(stems.values())).max()), 1e-6)
        level = _uniform(generator, 0.5, 0.9) / peak
        return {name: stem * np.float32(level) for name, stem in stems.items()}, positions


__all__ = ["MultitrackMixes", "dry_stems", "stem_name", "PLACEMENT_OF_STEM"]
