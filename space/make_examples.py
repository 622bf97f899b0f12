"""Synthesise the Space's example clips: short mono pieces made here from sine, noise and plucked strings.

python space/make_examples.py            # writes space/examples/*.ogg

The clips are made by this script alone (no recordings or samples), so they carry the project's Apache-2.0
licence and may also be used under CC0.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

SAMPLING_RATE = 32000
SECONDS = 6.0
TEMPO_BPM = 100.0
PEAK = 0.8


def midi_hz(note: float) -> float:
    """Frequency of a MIDI note number (69 = A4 = 440 Hz)."""
    return 440.0 * 2.0 ** ((note - 69.0) / 12.0)


def envelope(length: int, attack: float, decay: float, rate: int = SAMPLING_RATE) -> np.ndarray:
    """A linear attack then an exponential decay with time constant `decay` seconds."""
    time = np.arange(length) / rate
    return np.minimum(time / max(attack, 1e-4), 1.0) * np.exp(-np.maximum(time - attack, 0.0) / decay)


def electric_piano(note: float, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A bell-like tone: a few harmonic partials, the higher ones dying away faster."""
    length = int(seconds * SAMPLING_RATE)
    time = np.arange(length) / SAMPLING_RATE
    tone = sum(
        np.sin(2 * np.pi * midi_hz(note) * partial * time) * envelope(length, 0.004, 1.2 / partial) / partial**1.3
        for partial in (1, 2, 3, 4, 6)
    )
    return tone * 0.25


def plucked_string(note: float, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A Karplus-Strong string: a noise burst circulating in a damped delay line."""
    length = int(seconds * SAMPLING_RATE)
    period = max(2, round(SAMPLING_RATE / midi_hz(note)))
    output = np.zeros(length)
    output[:period] = rng.uniform(-1.0, 1.0, period)
    for start in range(period, length, period):
        block = output[start - period : start]
        smoothed = 0.498 * (block + np.roll(block, 1))
        output[start : start + period] = smoothed[: length - start]
    return output * 0.3


def bass(note: float, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A round bass note: a sine with a little second harmonic."""
    length = int(seconds * SAMPLING_RATE)
    time = np.arange(length) / SAMPLING_RATE
    frequency = midi_hz(note)
    tone = np.sin(2 * np.pi * frequency * time) + 0.3 * np.sin(4 * np.pi * frequency * time)
    return tone * envelope(length, 0.01, 0.6) * 0.35


def kick(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A kick drum: a sine falling from 120 Hz to 45 Hz."""
    length = int(seconds * SAMPLING_RATE)
    time = np.arange(length) / SAMPLING_RATE
    frequency = 45.0 + 75.0 * np.exp(-time / 0.03)
    return np.sin(2 * np.pi * np.cumsum(frequency) / SAMPLING_RATE) * envelope(length, 0.001, 0.12) * 0.6


def noise_hit(seconds: float, decay: float, brightness: float, rng: np.random.Generator) -> np.ndarray:
    """A snare or hi-hat: noise, first-differenced `brightness` times to tilt it up, with a short decay."""
    length = int(seconds * SAMPLING_RATE)
    noise = rng.standard_normal(length + 4)
    for _ in range(int(brightness)):
        noise = np.diff(noise)
    noise = noise[:length] / np.max(np.abs(noise[:length]))
    return noise * envelope(length, 0.001, decay) * 0.3


def place(track: np.ndarray, sound: np.ndarray, beat: float) -> None:
    """Add `sound` into `track` starting at `beat` (in beats of `TEMPO_BPM`)."""
    start = int(beat * 60.0 / TEMPO_BPM * SAMPLING_RATE)
    end = min(track.shape[0], start + sound.shape[0])
    if start < end:
        track[start:end] += sound[: end - start]


def keys_and_bass(rng: np.random.Generator) -> np.ndarray:
    """Electric-piano chords over a walking bass and a light beat."""
    track = np.zeros(int(SECONDS * SAMPLING_RATE))
    chords = [(57, 60, 64, 67), (53, 57, 60, 64), (55, 59, 62, 65), (52, 55, 59, 64)]
    for bar, chord in enumerate(chords):
        for note in chord:
            place(track, electric_piano(note, 2.4, rng), bar * 2.5)
        for step, interval in enumerate((0, 7, 12, 7)):
            place(track, bass(chord[0] - 12 + interval, 0.6, rng), bar * 2.5 + step * 0.625)
    for beat in np.arange(0, 10, 1.0):
        place(track, kick(0.4, rng), beat)
        place(track, noise_hit(0.08, 0.02, 3, rng), beat + 0.5)
    return track


def plucked_melody(rng: np.random.Generator) -> np.ndarray:
    """A plucked-string melody over sustained low strings."""
    track = np.zeros(int(SECONDS * SAMPLING_RATE))
    melody = [64, 67, 69, 71, 69, 67, 64, 62, 64, 67, 72, 71, 69, 67, 69, 64, 62, 60, 62, 64]
    for index, note in enumerate(melody):
        place(track, plucked_string(note, 1.2, rng), index * 0.5)
    for beat, note in ((0, 45), (4, 41), (8, 43)):
        place(track, plucked_string(note, 3.0, rng) * 0.8, beat)
        place(track, plucked_string(note + 7, 3.0, rng) * 0.5, beat + 0.02)
    return track


def drum_groove(rng: np.random.Generator) -> np.ndarray:
    """Kick, snare and hi-hats in a two-bar groove with a bass line."""
    track = np.zeros(int(SECONDS * SAMPLING_RATE))
    for bar in range(3):
        start = bar * 4.0
        for beat in (0, 1.5, 2.5):
            place(track, kick(0.4, rng), start + beat)
        for beat in (1, 3):
            place(track, noise_hit(0.25, 0.06, 1, rng), start + beat)
        for beat in np.arange(0, 4, 0.5):
            place(track, noise_hit(0.06, 0.015, 4, rng) * 0.6, start + beat + 0.25)
        for beat, note in ((0, 40), (1.5, 40), (2.5, 43), (3.25, 45)):
            place(track, bass(note, 0.5, rng), start + beat)
    return track


EXAMPLES: dict[str, Callable[[np.random.Generator], np.ndarray]] = {
    "keys-and-bass": keys_and_bass,
    "plucked-melody": plucked_melody,
    "drum-groove": drum_groove,
}


def make_examples(folder: Path, seed: int = 0) -> list[Path]:
    """Write each example as mono OGG Vorbis at `SAMPLING_RATE`, peak-normalised to `PEAK`; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, compose in EXAMPLES.items():
        audio = compose(np.random.default_rng(seed))
        fade = int(0.05 * SAMPLING_RATE)
        audio[-fade:] *= np.linspace(1.0, 0.0, fade)
        audio = (audio * PEAK / np.max(np.abs(audio))).astype(np.float32)
        path = folder / f"{name}.ogg"
        with sf.SoundFile(path, "w", SAMPLING_RATE, 1, "VORBIS", format="OGG") as file:
            file.title, file.artist, file.license = name.replace("-", " "), "mono2stereo", "Apache-2.0 OR CC0-1.0"
            file.write(audio)
        written.append(path)
    return written


def main() -> None:
    """Write the example clips into `--output` (default: the examples folder next to this script)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "examples")
    arguments = parser.parse_args()
    for path in make_examples(arguments.output):
        print(f"{path} ({path.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
