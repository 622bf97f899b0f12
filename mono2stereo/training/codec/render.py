"""General-MIDI pieces rendered to stereo audio by the `fluidsynth` command and cached as WAV files."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import mido
import numpy as np
import soundfile as sf

from .midi import midi_bytes, random_general_midi

SOUNDFONT_PATHS = (
    "/usr/share/sounds/sf2/TimGM6mb.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
)
INSTALL_HINT = "install them with `apt-get install --no-install-recommends fluidsynth timgm6mb-soundfont`"


def find_soundfont() -> Path:
    """The first General-MIDI SoundFont found in the usual Debian places."""
    for path in SOUNDFONT_PATHS:
        if Path(path).is_file():
            return Path(path)
    raise FileNotFoundError(f"no General-MIDI SoundFont in {', '.join(SOUNDFONT_PATHS)}; {INSTALL_HINT}")


def render_midi(
    midi: mido.MidiFile, sampling_rate: int, soundfont: str | Path | None = None, effects: bool = True
) -> np.ndarray:
    """Render `midi` with fluidsynth into float32 stereo `(samples, 2)` at `sampling_rate`.

    `effects=False` turns fluidsynth's reverb and chorus off, so a SoundFont's own effect sends add nothing.
    """
    executable = shutil.which("fluidsynth")
    if executable is None:
        raise FileNotFoundError(f"the `fluidsynth` command is not installed; {INSTALL_HINT}")
    soundfont = Path(soundfont) if soundfont is not None else find_soundfont()
    with tempfile.TemporaryDirectory() as folder:
        midi_path, wav_path = Path(folder) / "piece.mid", Path(folder) / "piece.wav"
        midi_path.write_bytes(midi_bytes(midi))
        switch = "1" if effects else "0"
        command = [executable, "-n", "-i", "-q", "-g", "0.6", "-r", str(sampling_rate), "-R", switch, "-C", switch]
        command += ["-T", "wav", "-O", "float", "-F", str(wav_path), str(soundfont), str(midi_path)]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0 or not wav_path.is_file():
            raise RuntimeError(f"fluidsynth failed (exit {result.returncode}): {result.stderr.strip()[-500:]}")
        audio, rate = sf.read(str(wav_path), dtype="float32", always_2d=True)
    if rate != sampling_rate:
        raise RuntimeError(f"fluidsynth wrote {rate} Hz audio, asked for {sampling_rate} Hz")
    return audio


def general_midi_renders(
    cache_dir: str | Path, count: int, seconds: float, sampling_rate: int, seed: int = 0
) -> list[Path]:
    """Render `count` seeded random pieces into `cache_dir` (skipping ones already there) and list their files."""
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        piece_seed = seed * 1_000_003 + index
        path = cache_dir / f"gm-{sampling_rate}hz-{seconds:g}s-seed{piece_seed}.wav"
        if not path.is_file():
            audio = render_midi(random_general_midi(piece_seed, seconds), sampling_rate)
            partial = path.with_suffix(".partial.wav")
            sf.write(str(partial), audio, sampling_rate, subtype="FLOAT")
            partial.replace(path)
        paths.append(path)
    return paths
