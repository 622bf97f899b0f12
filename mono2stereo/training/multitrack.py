"""`MultitrackMixes`: General-MIDI pieces rendered one part at a time, mixed with known placements.

A mix's piece is a random piece (`codec.midi.random_general_midi`: drums, bass, one or two chord parts and a lead)
or, given a folder of Debian's MIDI packages (`midi_library`), with the share `midi_share`, an excerpt of one of
the pieces they ship. Every part (`midi_parts`: what one track plays on one channel) is rendered alone by
fluidsynth, dry and centred, all parts of a mix in one run. A part's role comes from its channel and General-MIDI
programme (drums, bass, piano, guitar, strings, lead, pads...), and the mixing style places it by that role
(`mixing.stem_mix.draw_stem_pans`; constant-power pan law, a time difference on the far side) and sends it to the
style's room. In the `vintage` style the reverb return follows its part's pan (a mono chamber per track, as on
1960s records); in the others it is a stereo room. An example carries the mix, its style, each stem with its pan,
and where the piece came from; the stems sum to the mix. The same seed and index (and library) give the same audio.

`python -m mono2stereo.training.multitrack OUT --mixes N` renders mixes once into tar shards
(`multitrack_shards`).
"""

from __future__ import annotations

import math
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import mido
import numpy as np
import torch

from ..audio import fold
from ..mixing.stem_mix import draw_stem_pans
from ..mixing.styles import MIXING_STYLES, ROOM_RT60_RANGE_S, STYLE_ROOMS, draw_reverb_send, room_responses, uniform
from .codec.midi import random_general_midi
from .codec.render import find_soundfont, render_midi
from .midi_parts import (
    DRUM_CHANNEL,
    Part,
    excerpt_parts,
    parts_in_sequence,
    parts_of_excerpt_file,
    section_seconds,
    timed_messages,
)

# fluid-soundfont-gm's bank first: far richer than TimGM6mb, which tests use.
RICH_SOUNDFONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2",)
# General-MIDI programme family (programme // 8) -> role (`mixing.roles`)
FAMILY_ROLES = (
    "piano",
    "keys",  # chromatic percussion: celesta, vibraphone, marimba...
    "keys",  # organs
    "guitar",
    "bass",
    "strings",
    "strings",  # ensembles and choirs
    "lead",  # brass
    "lead",  # reeds
    "lead",  # pipes
    "lead",  # synth leads
    "pads",
    "synth",  # synth effects
    "lead",  # ethnic instruments
    "percussion",
    "other",  # sound effects
)
KIT_PIECES = {"kick": (35, 36), "snare": (37, 38, 39, 40), "hats": (42, 44, 46)}
KIT_PIECE_SHARE = 0.8  # a drum part playing this share of one kit piece's notes is that piece


def default_soundfont() -> Path:
    """fluid-soundfont-gm's FluidR3_GM when installed, else the first General-MIDI SoundFont found."""
    rich = [Path(p) for p in RICH_SOUNDFONTS if Path(p).is_file()]
    return rich[0] if rich else find_soundfont()


def part_role(part: Part, random_piece: bool = False) -> str:
    """A part's role: drums (or one kit piece) on the drum channel, else by its programme's family.

    In a random piece the channel says the part: drums on 9, bass on 0, chords on 1-3, the lead on 4.
    """
    if random_piece:
        channel = part.channel
        return "drums" if channel == DRUM_CHANNEL else "bass" if channel == 0 else "chords" if channel < 4 else "lead"
    if part.channel == DRUM_CHANNEL:
        pitches = part.pitches
        total = max(sum(pitches.values()), 1)
        for piece, notes in KIT_PIECES.items():
            if sum(pitches[n] for n in notes) >= KIT_PIECE_SHARE * total:
                return piece
        return "drums"
    return FAMILY_ROLES[part.program // 8]


def stem_roles(parts: list[Part], random_piece: bool = False) -> list[str]:
    """Each part's role, with one lead per mix: the lead part playing most notes; other lead parts accompany."""
    roles = [part_role(part, random_piece) for part in parts]
    leads = [i for i, role in enumerate(roles) if role == "lead"]
    if len(leads) > 1:
        kept = max(leads, key=lambda i: (parts[i].note_count, -i))
        for i in leads:
            if i != kept:
                roles[i] = "other"
    return roles


def stem_names(roles: list[str]) -> list[str]:
    """Unique stem names from roles: `bass`, or `chords1`, `chords2` when a role is taken twice."""
    counts, seen, names = Counter(roles), Counter(), []
    for role in roles:
        seen[role] += 1
        names.append(role if counts[role] == 1 else f"{role}{seen[role]}")
    return names


class MultitrackMixes(torch.utils.data.Dataset):
    """Seeded mixes of rendered General-MIDI parts: item `i` is `{"audio": (2, n), "style": tag, "id": str,
    "stems": {name: (2, n)}, "positions": {name: pan in [-1, 1]}, "placements": [...], "piece": {...},
    "room": {...}}`."""

    def __init__(
        self,
        num_mixes: int = 256,
        sampling_rate: int = 32000,
        duration_s: float = 4.0,
        styles: list[str] | tuple[str, ...] | None = None,
        seed: int = 0,
        soundfont: str | Path | None = None,
        midi_dir: str | Path | None = None,
        midi_share: float = 0.5,
    ):
        self.styles = tuple(styles) if styles else MIXING_STYLES
        for style in self.styles:
            if style not in MIXING_STYLES:
                raise ValueError(f"unknown mixing style {style!r}; MultitrackMixes knows {', '.join(MIXING_STYLES)}")
        if num_mixes < 1 or duration_s <= 0:
            raise ValueError(f"num_mixes={num_mixes} and duration_s={duration_s} must be positive")
        if not 0 <= midi_share <= 1:
            raise ValueError(f"midi_share={midi_share} must be in [0, 1] (the share of mixes cut from MIDI files)")
        self.num_mixes, self.sampling_rate, self.duration_s, self.seed = num_mixes, sampling_rate, duration_s, seed
        self.soundfont = Path(soundfont) if soundfont else default_soundfont()
        self.midi_share, self.excerpts = midi_share, []
        if midi_dir is not None:
            from .midi_library import excerpts

            self.excerpts = excerpts(midi_dir, duration_s)
            if not self.excerpts:
                raise ValueError(f"no MIDI excerpts of {duration_s:g} s in {midi_dir}; the packages hold no piece")

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
        from_file = uniform(generator, 0.0, 1.0) < self.midi_share and bool(self.excerpts)
        if from_file:
            excerpt = self.excerpts[int(torch.randint(len(self.excerpts), (), generator=generator))]
            parts = parts_of_excerpt_file(mido.MidiFile(excerpt.path))
            piece = {"kind": "debian", "package": excerpt.package, "file": excerpt.file, "start_s": excerpt.start_s}
            piece.update(licence=excerpt.licence, copyright=excerpt.copyright)
        else:
            messages = timed_messages(random_general_midi(piece_seed, self.duration_s + 1.0))
            parts = excerpt_parts(messages, 0.0, self.duration_s)
            piece = {"kind": "random", "seed": piece_seed}
        roles = stem_roles(parts, random_piece=not from_file)
        names = stem_names(roles)
        tracks = dict(zip(names, self.render_parts(parts)))
        stems, placements, room = self.mix(tracks, dict(zip(names, roles)), style, generator)
        for placement, part in zip(placements, parts):
            placement.update(program=part.program, channel=part.channel, track=part.track)
        return {
            "audio": sum(stems.values()),
            "style": style,
            "id": f"multitrack-{self.seed}-{index}",
            "stems": stems,
            "positions": {p["name"]: p["pan"] for p in placements},
            "placements": placements,
            "piece": piece,
            "room": room,
        }

    def render_parts(self, parts: list[Part]) -> list[np.ndarray]:
        """Each part rendered alone as mono float32 `(n,)` (one fluidsynth run for all), cut to the mix's length."""
        length = int(round(self.duration_s * self.sampling_rate))
        period = section_seconds(self.duration_s) * self.sampling_rate
        audio = render_midi(parts_in_sequence(parts, self.duration_s), self.sampling_rate, self.soundfont, False)
        mono = fold(audio)
        mono = np.pad(mono, (0, max(0, (len(parts) - 1) * period + length - len(mono))))
        return [mono[k * period : k * period + length].astype(np.float32) for k in range(len(parts))]

    def mix(self, tracks: dict[str, np.ndarray], roles: dict[str, str], style: str, generator: torch.Generator):
        """Place and reverberate each track in `style`: the stereo stems `(2, n)`, each stem's placement, the room."""
        sr = self.sampling_rate
        names = list(tracks)
        pans = draw_stem_pans(style, [roles[name] for name in names], generator)
        room = STYLE_ROOMS[style]
        send = draw_reverb_send(style, generator)
        rt60 = uniform(generator, *ROOM_RT60_RANGE_S)
        count = len(tracks[names[0]])
        ir_length = max(1, int(min(rt60, self.duration_s) * sr))
        noise = torch.randn((3, ir_length), generator=generator)
        responses = room_responses(room.reverb_correlation, rt60, ir_length, sr, noise).numpy().astype(np.float64)
        size = 1 << int(np.ceil(np.log2(count + ir_length)))
        spectra = np.fft.rfft(responses, size)
        stems, placements = {}, []
        for name, pan in zip(names, pans):
            track = tracks[name]
            angle = (pan + 1) * math.pi / 4  # constant-power pan law
            gains = np.array([math.cos(angle), math.sin(angle)])
            delay = int(round(abs(pan) * room.max_itd_s * sr))
            delayed = np.pad(track, (delay, 0))[:count] if delay else track
            # The far ear hears the instrument later.
            dry = np.stack([gains[0] * (delayed if pan > 0 else track), gains[1] * (delayed if pan < 0 else track)])
            wet = np.fft.irfft(np.fft.rfft(track, size) * spectra, size)[:, :count]
            if style == "vintage":  # the chamber return sits with its track
                wet = wet * gains[:, None]
            stems[name] = dry + send * wet
            placements.append({"name": name, "role": roles[name], "pan": round(float(pan), 4)})
            placements[-1]["delay_ms"] = round(1000 * delay / sr, 3)
        peak = max(float(np.abs(sum(stems.values())).max()), 1e-6)
        level = uniform(generator, 0.5, 0.9) / peak
        stems = {name: (stem * level).astype(np.float32) for name, stem in stems.items()}
        for placement in placements:
            rms = float(np.sqrt(np.mean(stems[placement["name"]].astype(np.float64) ** 2)))
            placement["level_db"] = round(20 * math.log10(max(rms, 1e-6)), 1)
        room_settings = {"reverb_send": round(send, 4), "rt60_s": round(rt60, 3)}
        room_settings["reverb_correlation"] = room.reverb_correlation
        return stems, placements, room_settings


__all__ = ["MultitrackMixes", "default_soundfont", "part_role", "stem_names", "stem_roles"]

if __name__ == "__main__":
    from .multitrack_shards import main

    sys.exit(main())
