"""Upmixing files: expanding inputs (files, folders, globs), naming outputs, one file in, stereo file(s) out."""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from dataclasses import dataclass

from ..audio import AUDIO_EXTENSIONS, AUDIO_FORMATS
from .audio_io import AudioWriter, audio_format, read_audio
from .output import UpmixOutput

# Input formats written again as themselves when the output is a folder; the others (mp3, opus) become wav.
KEPT_FORMATS = tuple(extension for extension, kind in AUDIO_FORMATS.items() if kind != "MP3")


@dataclass
class UpmixJob:
    """One input file and the output path(s) it will be written to (one per variant)."""

    input_path: str
    output_paths: list[str]
    error: str | None = None


def is_glob(pattern: str) -> bool:
    """True when `pattern` holds glob wildcards."""
    return glob.has_magic(pattern)


def expand_inputs(patterns: Sequence[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Audio files named by files, folders (their audio files, not recursive) and globs, and the patterns that
    named nothing, each with the reason: `(files, [(pattern, reason)])`."""
    files, missing = [], []
    for pattern in patterns:
        if is_glob(pattern):
            matches = sorted(path for path in glob.glob(pattern, recursive=True) if os.path.isfile(path))
            if not matches:
                missing.append((pattern, "no file matches this pattern"))
            files.extend(matches)
        elif os.path.isdir(pattern):
            names = sorted(os.listdir(pattern))
            names = [name for name in names if is_audio_name(name) and not name.startswith(".")]
            matches = [os.path.join(pattern, name) for name in names]
            if not matches:
                known = ", ".join(sorted(AUDIO_EXTENSIONS))
                missing.append((pattern, f"the folder holds no audio files ({known})"))
            files.extend(matches)
        else:
            files.append(pattern)  # a missing or bad file is reported when it is read
    return files, missing


def is_audio_name(name: str) -> bool:
    """True when a file name has an audio extension mono2stereo reads."""
    return os.path.splitext(name)[1].lower() in AUDIO_EXTENSIONS


def output_is_folder(patterns: Sequence[str], output: str) -> bool:
    """Whether `output` names a folder: several inputs, a folder or glob input, an existing folder, or no audio
    extension on it."""
    several = len(patterns) > 1 or any(is_glob(pattern) or os.path.isdir(pattern) for pattern in patterns)
    return several or os.path.isdir(output) or output.endswith(os.sep) or not is_audio_name(output)


def variant_paths(path: str, num_variants: int) -> list[str]:
    """`path` itself for one variant, else `name-v1.ext`, `name-v2.ext`, ..."""
    if num_variants == 1:
        return [path]
    stem, extension = os.path.splitext(path)
    return [f"{stem}-v{index}{extension}" for index in range(1, num_variants + 1)]


def plan_jobs(
    files: Sequence[str],
    output: str,
    into_folder: bool,
    num_variants: int = 1,
    output_format: str | None = None,
    overwrite: bool = False,
) -> list[UpmixJob]:
    """Output paths for each input; a job whose outputs exist (without `overwrite`) or collide carries an error."""
    jobs, taken = [], set()
    for path in files:
        if into_folder:
            stem, extension = os.path.splitext(os.path.basename(path))
            extension = extension.lower() if extension.lower() in KEPT_FORMATS else ".wav"
            base = os.path.join(output, stem + ("." + output_format if output_format else extension))
        else:
            base = output
        job = UpmixJob(path, variant_paths(base, num_variants))
        existing = [out for out in job.output_paths if os.path.exists(out)]
        clashes = [out for out in job.output_paths if os.path.abspath(out) in taken]
        if clashes:
            job.error = f"{clashes[0]} is also the output of another input; rename one of them"
        elif existing and not overwrite:
            job.error = f"{existing[0]} already exists; pass --overwrite to replace it"
        taken.update(os.path.abspath(out) for out in job.output_paths)
        jobs.append(job)
    return jobs


def upmix_file(
    input_path: str,
    output_paths: Sequence[str],
    pipeline,
    overwrite: bool = False,
    subtype: str | None = None,
    **settings,
) -> UpmixOutput:
    """Read `input_path`, upmix it with `pipeline.upmix_into` and write each variant, tags kept.

    `settings["channel"]` (`mid`, `left`, `right`) says what a stereo file becomes before upmixing. The input is
    decoded to a spool on disk and each variant is written block by block as it is rendered, so a long song takes
    no more memory than a short one. Writes one file per variant to `output_paths`, all of them or none.
    """
    for path in output_paths:
        audio_format(path)  # an unknown extension fails before the model runs
    source = read_audio(input_path, spool=True, channel=settings.pop("channel", "mid"))
    writers, committed = [], []
    try:
        for path in output_paths:
            writers.append(AudioWriter(path, source.sampling_rate, 2, subtype, source.tags, overwrite))
        settings.setdefault("num_variants", len(output_paths))
        output = pipeline.upmix_into(source.audio, source.sampling_rate, writers, peak=source.peak, **settings)
        for writer in writers:
            writer.commit()
            committed.append(writer.path)
    except BaseException:
        for writer in writers:
            writer.abort()
        for path in committed:  # all variants or none
            os.remove(path)
        raise
    finally:
        source.audio.close()
    output.folded, output.fold_level_db = source.folded, source.fold_level_db
    return output


__all__ = [
    "UpmixJob",
    "expand_inputs",
    "is_audio_name",
    "output_is_folder",
    "plan_jobs",
    "upmix_file",
    "variant_paths",
]
