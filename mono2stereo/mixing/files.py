"""Mixing files: stems named on the command line or found in folders, one mix (and its report) written per song.

`mono2stereo mix` takes stem files (`role=path` to give a role), a folder of stems (one song), or a folder of
such folders (a catalogue: one mix per folder). Reading, the no-overwrite rule and atomic writes are the ones of
`upmix` (`inference.audio_io`, `inference.files`).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..inference.audio_io import AudioError, audio_format, read_audio, write_audio
from ..inference.files import is_audio_name, is_glob, variant_paths
from ..inference.resampling import resample
from .report import write_picture, write_report
from .roles import parse_stem_argument
from .stem_mix import MixOutput, mix

DEFAULT_NAME = "mix"


@dataclass
class MixJob:
    """One song: its stems (`role=path` or paths), the output path per variant, and the report's paths."""

    name: str
    stems: list[str]
    output_paths: list[str]
    report_path: str | None = None
    picture_path: str | None = None
    error: str | None = None


def audio_files(folder: str) -> list[str]:
    """The audio files of a folder (not hidden, not recursive), sorted."""
    names = sorted(name for name in os.listdir(folder) if is_audio_name(name) and not name.startswith("."))
    return [os.path.join(folder, name) for name in names if os.path.isfile(os.path.join(folder, name))]


def song_folders(arguments: Sequence[str]) -> list[str] | None:
    """The song folders when `arguments` is one folder holding folders of stems (a catalogue), else None."""
    if len(arguments) != 1 or not os.path.isdir(arguments[0]) or audio_files(arguments[0]):
        return None
    folders = [os.path.join(arguments[0], name) for name in sorted(os.listdir(arguments[0])) if name[0] != "."]
    folders = [folder for folder in folders if os.path.isdir(folder) and audio_files(folder)]
    return folders or None


def expand_stems(arguments: Sequence[str]) -> list[tuple[str | None, str]]:
    """`(role or None, path)` of every stem: files, `role=path`, the audio files of folders, glob matches."""
    stems = []
    for argument in arguments:
        role, path = parse_stem_argument(argument)
        if role is None and is_glob(path):
            matches = sorted(match for match in glob.glob(path) if os.path.isfile(match))
            if not matches:
                raise AudioError(f"{path}: no file matches this pattern")
            stems.extend((None, match) for match in matches)
        elif role is None and os.path.isdir(path):
            found = audio_files(path)
            if not found:
                raise AudioError(f"{path}: the folder holds no audio files")
            stems.extend((None, file) for file in found)
        else:
            stems.append((role, path))  # a missing or bad file is reported when it is read
    return stems


def read_stems(arguments: Sequence[str], pad: bool = False) -> tuple[dict, int, dict, dict]:
    """Read the stems: `(name -> mono, rate, name -> role given, name -> path)`; stereo stems are folded.

    Stems at different rates fail unless `pad`, which resamples them to the highest rate (the lengths are then
    checked, or padded, by `mix`).
    """
    stems, rates, roles, paths = {}, {}, {}, {}
    for role, path in expand_stems(arguments):
        name = os.path.splitext(os.path.basename(path))[0]
        if name in paths:
            raise AudioError(f"two stems are named {name!r} ({paths[name]} and {path}); rename one of them")
        source = read_audio(path)
        stems[name], rates[name], paths[name] = source.audio, source.sampling_rate, path
        if role is not None:
            roles[name] = role
    rate = max(rates.values())
    if len(set(rates.values())) > 1:
        if not pad:
            listed = ", ".join(f"{os.path.basename(paths[name])} {hz} Hz" for name, hz in rates.items())
            raise AudioError(
                f"stems have different sample rates: {listed}; resample them to one rate, or pass --pad to "
                f"resample them to {rate} Hz and pad the shorter ones with silence"
            )
        stems = {name: resample(audio, rates[name], rate) for name, audio in stems.items()}
    return stems, rate, roles, paths


def report_paths(report: str | bool | None, output_path: str) -> tuple[str | None, str | None]:
    """The report's JSON and PNG paths: `report` itself, or next to the output (`NAME.placement.json`) if True."""
    if not report:
        return None, None
    path = report if isinstance(report, str) else os.path.splitext(output_path)[0] + ".placement.json"
    return path, os.path.splitext(path)[0] + ".png"


def plan_mix_jobs(
    arguments: Sequence[str],
    output: str,
    num_variants: int = 1,
    output_format: str | None = None,
    report: str | bool | None = None,
    overwrite: bool = False,
) -> list[MixJob]:
    """One job per song; a job whose outputs exist (without `overwrite`) carries an error, as `upmix` does."""
    folders = song_folders(arguments)
    extension = "." + (output_format or "wav")
    if folders is not None:
        if isinstance(report, str):
            raise ValueError("with a folder of songs, --report takes no path: each report is written by its mix")
        songs = [(os.path.basename(f), [f], os.path.join(output, os.path.basename(f) + extension)) for f in folders]
    else:
        single = len(arguments) == 1 and os.path.isdir(arguments[0])
        name = os.path.basename(os.path.normpath(arguments[0])) if single else DEFAULT_NAME
        into_folder = os.path.isdir(output) or output.endswith(os.sep) or not is_audio_name(output)
        songs = [(name, list(arguments), os.path.join(output, name + extension) if into_folder else output)]
    jobs = []
    for name, stems, base in songs:
        job = MixJob(name, stems, variant_paths(base, num_variants), *report_paths(report, base))
        written = [*job.output_paths, *filter(None, (job.report_path, job.picture_path))]
        existing = [path for path in written if os.path.exists(path)]
        if existing and not overwrite:
            job.error = f"{existing[0]} already exists; pass --overwrite to replace it"
        jobs.append(job)
    return jobs


def mix_file(job: MixJob, overwrite: bool = False, subtype: str | None = None, pad: bool = False, **settings):
    """Read a job's stems, mix them (`mix(stems, rate, **settings)`) and write every variant and the report.

    All of a job's files are written or none.
    """
    for path in job.output_paths:
        audio_format(path)  # an unknown extension fails before any work
    stems, rate, roles, paths = read_stems(job.stems, pad)
    output: MixOutput = mix(stems, rate, roles=roles, pad=pad, **settings)
    variants = output.audio[None] if output.audio.ndim == 2 else output.audio
    written = []
    try:
        for stereo, path in zip(variants, job.output_paths):
            write_audio(path, np.asarray(stereo), rate, subtype=subtype, overwrite=overwrite)
            written.append(path)
        if job.report_path:
            write_report(job.report_path, output.placements, paths, overwrite)
            written.append(job.report_path)
            write_picture(job.picture_path, output.placements, overwrite)
            written.append(job.picture_path)
    except BaseException as error:
        for path in written:
            os.remove(path)
        if isinstance(error, OSError):
            raise AudioError(f"cannot write the mix of {job.name}: {error}") from None
        raise
    return output


__all__ = ["MixJob", "expand_stems", "mix_file", "plan_mix_jobs", "read_stems", "report_paths", "song_folders"]
