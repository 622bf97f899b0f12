"""Reading and writing audio files: any rate and bit depth in, stereo out at the input's rate, atomically."""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field

import numpy as np
import soundfile as sf

# Formats soundfile reads and writes, by file extension.
AUDIO_EXTENSIONS = {
    ".wav": "WAV",
    ".flac": "FLAC",
    ".ogg": "OGG",
    ".mp3": "MP3",
    ".aiff": "AIFF",
    ".aif": "AIFF",
}
# Tags kept from input to output; soundfile stores them in wav (INFO chunk), flac and ogg (Vorbis comments).
TAG_NAMES = ("title", "artist", "album", "date", "genre", "tracknumber", "comment", "copyright", "license")
TAGGED_FORMATS = {"WAV", "FLAC", "OGG"}
DEFAULT_SUBTYPES = {"WAV": "PCM_24", "FLAC": "PCM_24", "AIFF": "PCM_24"}
# libsndfile notes a data chunk shorter than its header as "data : 48000 (should be 23978)"; streaming writers
# put 0 or 0xFFFFFFFF there on purpose, so those are not truncation.
_SHORT_DATA = re.compile(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)
_STREAMED_SIZES = (0, 0xFFFFFFFF)


class AudioError(ValueError):
    """Audio that cannot be upmixed or written; the message says what was wrong and what to do."""


@dataclass
class AudioFile:
    """A decoded input file folded to mono.

    Args:
        audio: `(samples,)` float32 mono.
        sampling_rate: the file's sample rate in Hz.
        channels: channels in the file (1, or 2 when `folded`).
        folded: True when a stereo file was folded to mono as `(L + R) / 2`.
        tags: the file's text tags (title, artist, ...) that soundfile reads.
        subtype: the file's sample encoding, e.g. `PCM_16`.
        peak: the largest absolute sample of `audio`.

    `audio` is an `AudioSpool` (on disk) when read with `read_audio(path, spool=True)`.
    """

    audio: np.ndarray
    sampling_rate: int
    channels: int = 1
    folded: bool = False
    tags: dict[str, str] = field(default_factory=dict)
    subtype: str | None = None
    peak: float | None = None


READ_BLOCK = 1 << 18  # frames decoded at a time when spooling


def check_audio(audio: np.ndarray, sampling_rate: int, name: str = "input") -> np.ndarray:
    """Check mono audio `(samples,)`: not empty, finite, at a positive rate; returns it as float32."""
    audio = np.asarray(audio)
    if audio.ndim == 2 and audio.shape[1] == 1:
        audio = audio[:, 0]
    if audio.ndim != 1:
        raise AudioError(f"{name} must be mono audio shaped (samples,), got shape {audio.shape}")
    if not isinstance(sampling_rate, (int, np.integer)) or sampling_rate <= 0:
        raise AudioError(f"{name} sampling_rate={sampling_rate!r} must be a positive integer (Hz)")
    if audio.size == 0:
        raise AudioError(f"{name} has no audio (zero samples)")
    if not np.issubdtype(audio.dtype, np.number):
        raise AudioError(f"{name} must hold numbers, got dtype {audio.dtype}")
    audio = audio.astype(np.float32, copy=False)
    bad = ~np.isfinite(audio)
    if bad.any():
        first = int(np.argmax(bad))
        raise AudioError(
            f"{name} has {int(bad.sum())} NaN or infinite samples (the first at {first / sampling_rate:.3f} s); "
            "repair or re-export the audio"
        )
    return audio


def fold_to_mono(audio: np.ndarray, name: str = "input") -> np.ndarray:
    """Mono `(samples,)` from soundfile-shaped audio: mono as is, stereo as `(L + R) / 2`; more channels fail."""
    if audio.ndim == 1:
        return audio
    if audio.ndim != 2:
        raise AudioError(f"{name} must be audio shaped (samples,) or (samples, channels), got shape {audio.shape}")
    channels = audio.shape[1]
    if audio.shape[0] in (1, 2) and channels > 2:
        raise AudioError(
            f"{name} is shaped {audio.shape}, which looks like (channels, samples); pass (samples, channels)"
        )
    if channels == 1:
        return audio[:, 0]
    if channels == 2:
        return (audio[:, 0] + audio[:, 1]) / 2
    raise AudioError(
        f"{name} has {channels} channels; mono2stereo takes mono or stereo "
        "(fold it down first, e.g. with `sox in.wav -c 1 out.wav`)"
    )


def _check_not_truncated(file: sf.SoundFile, path: str) -> None:
    log = file.extra_info
    for header, actual in _SHORT_DATA.findall(log):
        if int(header) not in _STREAMED_SIZES and int(actual) < int(header):
            raise AudioError(
                f"{path} is truncated: its header announces {header} bytes of audio but the file holds {actual}; "
                "re-export or re-download it"
            )
    if "ended unexpectedly" in log:
        raise AudioError(f"{path} is truncated (the stream ends unexpectedly); re-export or re-download it")


def read_audio(path: str | os.PathLike, spool: bool = False) -> AudioFile:
    """Read an audio file soundfile can decode (wav, flac, ogg, mp3, aiff) and fold it to mono.

    With `spool`, the mono is decoded block by block into an `AudioSpool` on disk, so a long file takes no memory.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise AudioError(f"{path} does not exist")
    if os.path.isdir(path):
        raise AudioError(f"{path} is a folder, not an audio file")
    try:
        with sf.SoundFile(path) as file:
            _check_not_truncated(file, path)
            tags = {name: value for name, value in file.copy_metadata().items() if value}
            sampling_rate, channels, subtype = file.samplerate, file.channels, file.subtype
            if spool:
                audio, peak = _spool_mono(file, path)
            else:
                audio = file.read(dtype="float32", always_2d=True)
    except sf.LibsndfileError as error:
        raise AudioError(f"cannot read {path}: {error.error_string} (is it a wav, flac, ogg or mp3 file?)") from None
    except sf.SoundFileRuntimeError as error:  # decoding errors after a good header, e.g. "flac decoder lost sync"
        raise AudioError(f"cannot read {path}: {error}; the file may be truncated or damaged") from None
    if audio.shape[0] == 0:
        if spool:
            audio.close()
        raise AudioError(f"{path} has no audio (zero samples)")
    if spool:
        return AudioFile(audio, sampling_rate, channels, channels == 2, tags, subtype, peak)
    mono = check_audio(fold_to_mono(audio, name=path), sampling_rate, name=path)
    peak = float(np.max(np.abs(mono)))
    return AudioFile(mono, sampling_rate, channels, channels == 2, tags, subtype, peak)


def _spool_mono(file: sf.SoundFile, path: str):
    """The file's audio folded to mono, decoded `READ_BLOCK` frames at a time into a spool; and its peak."""
    from .spool import AudioSpool

    fold_to_mono(np.zeros((0, file.channels), dtype=np.float32), name=path)  # refuses 3+ channels before decoding
    spool, peak = AudioSpool(0), 0.0
    try:
        for block in file.blocks(READ_BLOCK, dtype="float32", always_2d=True):
            mono = fold_to_mono(block, name=path)
            bad = ~np.isfinite(mono)
            if bad.any():
                first = (len(spool) + int(np.argmax(bad))) / file.samplerate
                raise AudioError(
                    f"{path} has NaN or infinite samples (the first at {first:.3f} s); repair or re-export the audio"
                )
            if len(mono):
                peak = max(peak, float(np.max(np.abs(mono))))
            spool.append(mono)
    except BaseException:
        spool.close()
        raise
    return spool, peak


def audio_format(path: str | os.PathLike) -> str:
    """The soundfile format (`WAV`, `FLAC`, ...) named by a file's extension."""
    extension = os.path.splitext(os.fspath(path))[1].lower()
    if extension not in AUDIO_EXTENSIONS:
        known = ", ".join(sorted(AUDIO_EXTENSIONS))
        raise AudioError(f"cannot write {os.fspath(path)}: unknown extension {extension!r}; use one of {known}")
    return AUDIO_EXTENSIONS[extension]


class AudioWriter:
    """An output file written block by block and atomically: nothing appears at `path` before `commit`.

    wav, flac and aiff default to 24-bit PCM. Tags are kept where the format stores them (wav, flac, ogg). An
    existing file is replaced only with `overwrite=True`; `abort` (or any failure) leaves no file behind.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        sampling_rate: int,
        channels: int = 2,
        subtype: str | None = None,
        tags: dict[str, str] | None = None,
        overwrite: bool = False,
    ):
        self.path = path = os.fspath(path)
        format_ = audio_format(path)
        subtype = subtype or DEFAULT_SUBTYPES.get(format_) or sf.default_subtype(format_)
        if not sf.check_format(format_, subtype):
            choices = ", ".join(sf.available_subtypes(format_))
            raise AudioError(f"cannot write {format_} with subtype {subtype!r}; choose one of {choices}")
        if os.path.exists(path) and not overwrite:
            raise AudioError(f"{path} already exists; pass --overwrite (overwrite=True) to replace it")
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise AudioError(f"cannot write {path}: the folder {folder} does not exist")
        try:
            handle, self.temporary = tempfile.mkstemp(dir=folder, prefix=".mono2stereo-", suffix=".part")
        except OSError as error:
            raise AudioError(f"cannot write to {folder}: {error.strerror}") from None
        os.close(handle)
        try:
            self.file = sf.SoundFile(self.temporary, "w", sampling_rate, channels, subtype, format=format_)
            if format_ in TAGGED_FORMATS:
                for name in TAG_NAMES:
                    if tags and tags.get(name):
                        setattr(self.file, name, tags[name])
        except BaseException as error:
            self.abort()
            raise self._error(error) from None

    def _error(self, error: BaseException) -> BaseException:
        if isinstance(error, (OSError, sf.SoundFileRuntimeError)):
            return AudioError(f"cannot write {self.path}: {error}")
        return error

    def write(self, frames: np.ndarray) -> None:
        """Append `(samples, channels)` frames."""
        try:
            self.file.write(np.ascontiguousarray(frames, dtype=np.float32))
        except BaseException as error:
            self.abort()
            raise self._error(error) from None

    def commit(self) -> None:
        """Finish the file and move it to its path."""
        try:
            self.file.close()
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self.temporary, 0o666 & ~umask)  # mkstemp makes the file private; give it the usual mode
            os.replace(self.temporary, self.path)
        except BaseException as error:
            self.abort()
            raise self._error(error) from None

    def abort(self) -> None:
        """Drop the file: nothing is left behind."""
        file = getattr(self, "file", None)
        if file is not None and not file.closed:
            try:
                file.close()
            except (OSError, sf.SoundFileRuntimeError):
                pass
        if os.path.exists(self.temporary):
            os.remove(self.temporary)


def write_audio(
    path: str | os.PathLike,
    audio: np.ndarray,
    sampling_rate: int,
    subtype: str | None = None,
    tags: dict[str, str] | None = None,
    overwrite: bool = False,
) -> None:
    """Write `(samples, channels)` audio in the format of the extension, atomically (see `AudioWriter`)."""
    writer = AudioWriter(path, sampling_rate, audio.shape[1], subtype, tags, overwrite)
    try:
        writer.write(audio)
    except BaseException:
        writer.abort()
        raise
    writer.commit()


__all__ = [
    "AUDIO_EXTENSIONS",
    "AudioError",
    "AudioFile",
    "AudioWriter",
    "audio_format",
    "check_audio",
    "fold_to_mono",
    "read_audio",
    "write_audio",
]
