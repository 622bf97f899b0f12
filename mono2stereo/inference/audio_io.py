"""Reading and writing audio files: any rate and bit depth in, stereo out at the input's rate, atomically."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import soundfile as sf

from ..audio import AUDIO_EXTENSIONS, AUDIO_FORMATS, fold, fold_energies, fold_level_db, level_ratio_db

# Tags kept from input to output; soundfile stores them in wav (INFO chunk), flac and ogg (Vorbis comments).
TAG_NAMES = ("title", "artist", "album", "date", "genre", "tracknumber", "comment", "copyright", "license")
TAGGED_FORMATS = {"WAV", "FLAC", "OGG"}
DEFAULT_SUBTYPES = {"WAV": "PCM_24", "FLAC": "PCM_24", "AIFF": "PCM_24"}
# libsndfile notes a data chunk shorter than its header as "data : 48000 (should be 23978)"; streaming writers
# put 0 or 0xFFFFFFFF there on purpose, so those are not truncation.
_SHORT_DATA = re.compile(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)
_STREAMED_SIZES = (0, 0xFFFFFFFF)
# Sample rates a file header may announce; anything outside is a damaged or hostile header.
MIN_FILE_RATE, MAX_FILE_RATE = 1000, 768_000
# A fold-down this far below its channels means L and R nearly cancel (e.g. L = -R): the mono is not the music.
FOLD_CANCEL_DB = -30.0
TEMPORARY_MARK = ".mono2stereo-"  # in the name of an output being written: `.NAME.mono2stereo-PID-XXXX.part`


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
        duration_s: the whole file's length from its header (`audio` may hold only the first part).
        fold_level_db: for stereo input, the fold-down's energy relative to the channels' (`fold_level_db`).
        stereo: the stereo as read, `(samples, 2)`, when asked for with `keep_stereo`.
        peak: the largest absolute sample of `audio`.

    `audio` (and `stereo`) are `AudioSpool`s (on disk) when read with `read_audio(path, spool=True)`.
    """

    audio: np.ndarray
    sampling_rate: int
    channels: int = 1
    folded: bool = False
    tags: dict[str, str] = field(default_factory=dict)
    subtype: str | None = None
    duration_s: float = 0.0
    fold_level_db: float | None = None
    stereo: np.ndarray | None = None
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
    if np.issubdtype(audio.dtype, np.complexfloating):
        raise AudioError(f"{name} is complex ({audio.dtype}); pass real samples, e.g. audio.real")
    if np.issubdtype(audio.dtype, np.integer):
        full_scale = 2 ** (np.iinfo(audio.dtype).bits - 1)
        raise AudioError(
            f"{name} holds {audio.dtype} samples; pass float samples in [-1, 1], e.g. audio / {full_scale} "
            "(or read the file with soundfile's dtype='float32')"
        )
    audio = audio.astype(np.float32, copy=False)
    bad = ~np.isfinite(audio)
    if bad.any():
        first = int(np.argmax(bad))
        raise AudioError(
            f"{name} has {int(bad.sum())} NaN or infinite samples (the first at {first / sampling_rate:.3f} s); "
            "repair or re-export the audio"
        )
    return audio


def fold_warning(name: str, level_db: float | None) -> str | None:
    """The one-line warning for a fold-down that cancels (`level_db` below `FOLD_CANCEL_DB`), else None."""
    if level_db is None or level_db >= FOLD_CANCEL_DB:
        return None
    below = f"{-level_db:.0f} dB" if level_db > -100 else "more than 100 dB"
    return (
        f"{name}: the mono fold-down (L+R)/2 is {below} below the channels (they nearly cancel, "
        "e.g. one is the other inverted), so the upmix is of near silence; upmix one channel instead with "
        "--channel left or --channel right"
    )


def fold_to_mono(audio: np.ndarray, name: str = "input", channel: str = "mid") -> np.ndarray:
    """Mono `(samples,)` from soundfile-shaped audio: mono as is, stereo as `(L + R) / 2` (`channel="mid"`) or one
    of its channels (`"left"`, `"right"`); more channels fail."""
    if channel not in ("mid", "left", "right"):
        raise AudioError(f"channel={channel!r} must be mid, left or right")
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
        if channel != "mid":
            return audio[:, 0 if channel == "left" else 1]
        return fold(audio)
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


@contextlib.contextmanager
def decoder_messages() -> Iterator[list[str]]:
    """Capture what C decoders (libmpg123 and others) write to the process's stderr; the list fills on exit."""
    captured: list[str] = []
    try:
        saved = os.dup(2)
    except OSError:  # no stderr to redirect
        yield captured
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield captured
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            captured += [line.strip() for line in sink.read().decode(errors="replace").splitlines() if line.strip()]


def read_audio(
    path: str | os.PathLike,
    max_seconds: float | None = None,
    channel: str = "mid",
    keep_stereo: bool = False,
    spool: bool = False,
) -> AudioFile:
    """Read an audio file soundfile can decode (wav, flac, ogg, opus, mp3, aiff) and fold it to mono.

    Only the first `max_seconds` are decoded when given. `channel` picks what stereo becomes: the fold-down
    `(L + R) / 2` (`mid`), or one channel. `keep_stereo` also returns the stereo as read. With `spool`, the mono
    (and the kept stereo) is decoded block by block into an `AudioSpool` on disk, so a long file takes no memory.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise AudioError(f"{path} does not exist")
    if os.path.isdir(path):
        raise AudioError(f"{path} is a folder, not an audio file")
    try:
        with decoder_messages() as messages, sf.SoundFile(path) as file:
            sampling_rate, channels, subtype = file.samplerate, file.channels, file.subtype
            check_header(path, sampling_rate, channels)
            _check_not_truncated(file, path)
            frames = -1 if max_seconds is None else int(max_seconds * sampling_rate)
            if spool:
                audio, stereo, peak, level = _spool_mono(file, path, frames, channel, keep_stereo)
            else:
                audio = file.read(frames, dtype="float32", always_2d=True)
            tags = {name: value for name, value in file.copy_metadata().items() if value}
            duration_s = max(file.frames, audio.shape[0]) / sampling_rate
    except sf.LibsndfileError as error:
        reason = error.error_string
        if "possibly a pipe" in reason or "unknown format" in reason.lower():
            reason = "not audio that soundfile can decode (damaged, or not a wav, flac, ogg, opus, mp3 or aiff file)"
        raise AudioError(f"cannot read {path}: {reason}") from None
    except sf.SoundFileRuntimeError as error:  # decoding errors after a good header, e.g. "flac decoder lost sync"
        raise AudioError(f"cannot read {path}: {error}; the file may be truncated or damaged") from None
    if audio.shape[0] == 0:
        if spool:
            _close_all(audio, stereo)
        detail = f" (the decoder said: {messages[-1]})" if messages else ""
        raise AudioError(f"{path} has no audio (zero samples){detail}")
    if not spool:
        stereo = audio if keep_stereo and channels == 2 else None
        level = fold_level_db(audio) if channels == 2 and channel == "mid" else None
        audio = check_audio(fold_to_mono(audio, name=path, channel=channel), sampling_rate, name=path)
        peak = float(np.max(np.abs(audio)))
    return AudioFile(audio, sampling_rate, channels, channels == 2, tags, subtype, duration_s, level, stereo, peak)


def _spool_mono(file: sf.SoundFile, path: str, frames: int, channel: str, keep_stereo: bool):
    """The file's first `frames` (-1: all) folded with `channel`, decoded `READ_BLOCK` frames at a time into a
    spool; also the stereo as read in a spool (with `keep_stereo`), the mono's peak and, for stereo folded to
    `mid`, the fold-down's level as `fold_level_db` gives it."""
    from .spool import AudioSpool

    fold_to_mono(np.zeros((0, file.channels), dtype=np.float32), name=path, channel=channel)  # check first
    spool, peak = AudioSpool(0), 0.0
    stereo = AudioSpool(0, 2) if keep_stereo and file.channels == 2 else None
    measure_fold = file.channels == 2 and channel == "mid"
    channel_energy = folded_energy = 1e-20
    try:
        for block in file.blocks(READ_BLOCK, frames=frames, dtype="float32", always_2d=True):
            mono = fold_to_mono(block, name=path, channel=channel)
            bad = ~np.isfinite(mono)
            if bad.any():
                first = (len(spool) + int(np.argmax(bad))) / file.samplerate
                raise AudioError(
                    f"{path} has NaN or infinite samples (the first at {first:.3f} s); repair or re-export the audio"
                )
            if len(mono):
                peak = max(peak, float(np.max(np.abs(mono))))
            if measure_fold:
                block_channels, block_folded = fold_energies(block)
                channel_energy += block_channels
                folded_energy += block_folded
            spool.append(mono)
            if stereo is not None:
                stereo.append(block)
    except BaseException:
        _close_all(spool, stereo)
        raise
    level = level_ratio_db(folded_energy, channel_energy) if measure_fold else None
    return spool, stereo, peak, level


def _close_all(*spools) -> None:
    for spool in spools:
        if spool is not None:
            spool.close()


def check_header(path: str, sampling_rate: int, channels: int) -> None:
    """Refuse a header whose rate or channel count no real recording has, before decoding anything."""
    if not MIN_FILE_RATE <= sampling_rate <= MAX_FILE_RATE:
        raise AudioError(
            f"{path} announces a sample rate of {sampling_rate} Hz; mono2stereo reads {MIN_FILE_RATE} to "
            f"{MAX_FILE_RATE} Hz (is the file damaged?)"
        )
    if channels > 2:
        raise AudioError(
            f"{path} has {channels} channels; mono2stereo takes mono or stereo "
            "(fold it down first, e.g. with `sox in.wav -c 1 out.wav`)"
        )


def audio_format(path: str | os.PathLike) -> str:
    """The soundfile format (`WAV`, `FLAC`, ...) named by a file's extension."""
    extension = os.path.splitext(os.fspath(path))[1].lower()
    if extension not in AUDIO_FORMATS:
        known = ", ".join(sorted(AUDIO_FORMATS))
        raise AudioError(f"cannot write {os.fspath(path)}: unknown extension {extension!r}; use one of {known}")
    return AUDIO_FORMATS[extension]


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
        remove_stale_partial_files(path)
        try:
            prefix = f".{os.path.basename(path)}{TEMPORARY_MARK}{os.getpid()}-"
            handle, self.temporary = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=".part")
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


def remove_stale_partial_files(path: str) -> list[str]:
    """Delete the partial files of `path` left by writers that were killed (their process is gone)."""
    folder, name = os.path.split(os.path.abspath(path))
    pattern = re.compile(rf"^\.{re.escape(name)}{re.escape(TEMPORARY_MARK)}(\d+)-.*\.part$")
    removed = []
    for entry in os.listdir(folder):
        match = pattern.match(entry)
        if match and not _process_alive(int(match.group(1))):
            with contextlib.suppress(OSError):
                os.remove(os.path.join(folder, entry))
                removed.append(entry)
    return removed


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # this process writes one output at a time: an older file of its own is stale
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return True


__all__ = [
    "AUDIO_EXTENSIONS",
    "AUDIO_FORMATS",
    "AudioError",
    "AudioFile",
    "AudioWriter",
    "audio_format",
    "check_audio",
    "fold_to_mono",
    "fold_level_db",
    "fold_warning",
    "read_audio",
    "remove_stale_partial_files",
    "write_audio",
]
