"""Run upmix systems over reference stereo tracks folded to mono, and score each upmix against its reference."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from ..audio import AUDIO_EXTENSIONS
from .metrics import (
    SpatialCues,
    band_means,
    best_of_variants,
    fold_down,
    ild_change_db,
    scores_from_cues,
    spatial_cues,
    stereo_width_db,
)
from .systems import System, upmix_seeds

REFERENCE = "reference"


@dataclass(frozen=True)
class ReferenceTrack:
    """One reference stereo recording."""

    name: str
    stereo: np.ndarray  # (n, 2) float32
    sampling_rate: int


@dataclass
class BandProfile:
    """Per-band means of the cues of one upmix (or the reference) of one track."""

    centres_hz: np.ndarray
    abs_level_difference_db: np.ndarray
    coherence: np.ndarray


@dataclass
class EvaluationResult:
    """Scores of every system on every track, with what the plots need."""

    rows: list[dict] = field(default_factory=list)  # one per (track, system, seed): names and scores
    reference_widths_db: dict[str, float] = field(default_factory=dict)
    reference_ild_changes_db: dict[str, float] = field(default_factory=dict)
    band_profiles: dict[str, list[BandProfile]] = field(default_factory=dict)  # system (or "reference") -> tracks
    field_track: str | None = None
    field_cues: dict[str, SpatialCues] = field(default_factory=dict)  # system (or "reference") -> cues of it


def reference_files(folder: str | Path) -> list[Path]:
    """The audio files directly inside `folder`, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"reference folder {str(folder)!r} does not exist; pass a folder of stereo audio")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)
    if not files:
        raise ValueError(
            f"reference folder {str(folder)!r} has no audio files ({', '.join(AUDIO_EXTENSIONS)}); "
            "put stereo reference tracks there"
        )
    return files


def load_reference(path: str | Path, max_seconds: float | None = None) -> ReferenceTrack:
    """Read one stereo reference, cropped to its first `max_seconds` if given."""
    path = Path(path)
    info = sf.info(str(path))
    frames = -1 if max_seconds is None else int(max_seconds * info.samplerate)
    audio, sampling_rate = sf.read(str(path), frames=frames, dtype="float32", always_2d=True)
    if audio.shape[1] != 2:
        raise ValueError(f"reference {path.name} has {audio.shape[1]} channel(s); references must be stereo")
    return ReferenceTrack(name=path.stem, stereo=np.ascontiguousarray(audio), sampling_rate=sampling_rate)


def _profile(cues: SpatialCues) -> BandProfile:
    return BandProfile(
        centres_hz=cues.bands.centres_hz,
        abs_level_difference_db=band_means(np.abs(cues.level_difference_db), cues),
        coherence=band_means(cues.coherence, cues),
    )


def _fit_length(audio: np.ndarray, num_samples: int) -> np.ndarray:
    if len(audio) >= num_samples:
        return audio[:num_samples]
    return np.pad(audio, ((0, num_samples - len(audio)), (0, 0)))


def evaluate_systems(
    references: Sequence[ReferenceTrack],
    systems: dict[str, System],
    seed: int | None = None,
    field_track: str | None = None,
    on_step: Callable[[str, str], None] | None = None,
    num_seeds: int = 1,
) -> EvaluationResult:
    """Fold each reference to mono, upmix it with every system and score the result against the reference.

    With several variants per upmix the scores are best-of-N. With `num_seeds` > 1, each seeded system (a model,
    not a DSP upmixer: see `systems.upmix_seeds`) upmixes each track with seeds `seed, seed + 1, ...`, one row
    per seed: a generative model's score from one seed is noisy. `field_track` (default: the first) keeps the
    first seed's cues for the stereo-field plot; `on_step(track, system)` is called after each upmix is scored.
    """
    if num_seeds < 1:
        raise ValueError(f"num_seeds={num_seeds} must be at least 1")
    if num_seeds > 1 and seed is None:
        raise ValueError("several seeds need a first seed to count from")
    result = EvaluationResult(field_track=field_track or (references[0].name if references else None))
    for reference in references:
        mono = fold_down(reference.stereo)
        reference_cues = spatial_cues(reference.stereo, reference.sampling_rate)
        result.reference_widths_db[reference.name] = stereo_width_db(reference.stereo)
        result.reference_ild_changes_db[reference.name] = ild_change_db(reference_cues)
        result.band_profiles.setdefault(REFERENCE, []).append(_profile(reference_cues))
        keep_field = reference.name == result.field_track
        if keep_field:
            result.field_cues[REFERENCE] = reference_cues
        for system, upmixer in systems.items():
            for index, this_seed in enumerate(upmix_seeds(upmixer, seed, num_seeds)):
                variants = np.asarray(upmixer(mono, reference.sampling_rate, this_seed), dtype=np.float32)
                if variants.ndim == 2:
                    variants = variants[None]
                variants = np.stack([_fit_length(variant, len(mono)) for variant in variants])
                scores, first_cues = [], None
                for variant in variants:
                    cues = spatial_cues(variant, reference.sampling_rate)
                    if first_cues is None:
                        first_cues = cues
                    scores.append(
                        scores_from_cues(
                            variant, cues, reference.stereo, reference_cues, mono, reference.sampling_rate
                        )
                    )
                result.rows.append(
                    {
                        "system": system,
                        "track": reference.name,
                        "seed": this_seed,
                        "variants": len(variants),
                        **best_of_variants(scores),
                    }
                )
                if index == 0:
                    result.band_profiles.setdefault(system, []).append(_profile(first_cues))
                    if keep_field:
                        result.field_cues[system] = first_cues
                if on_step is not None:
                    on_step(reference.name, system)
    return result
