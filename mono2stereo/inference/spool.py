"""Audio kept on disk instead of in memory: a long song's intermediate signals, read and written by ranges.

An `AudioSpool` holds float32 frames `(samples,)` or `(samples, channels)` in an anonymous temporary file (gone
when closed, or when the process ends however it ends). It is sliced like an array (`spool[start:stop]`), so the
same code handles a short song as a numpy array and an hour-long one as a spool, in the same bounded memory.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np
import soxr

SAMPLE_BYTES = 4  # float32
RESAMPLE_CHUNK = 1 << 18  # frames per soxr call when resampling a spool


class AudioSpool:
    """Float32 audio of `num_samples` frames (zeros until written) in a temporary file; see the module."""

    def __init__(self, num_samples: int = 0, channels: int | None = None, directory: str | None = None):
        self.channels = channels
        self._frame_bytes = SAMPLE_BYTES * (channels or 1)
        self._file = tempfile.TemporaryFile(dir=directory)
        self._fd = self._file.fileno()
        self.num_samples = 0
        self.resize(num_samples)

    @property
    def shape(self) -> tuple[int, ...]:
        """`(samples,)` or `(samples, channels)`, as an array of the same audio would have."""
        return (self.num_samples,) if self.channels is None else (self.num_samples, self.channels)

    def __len__(self) -> int:
        return self.num_samples

    def resize(self, num_samples: int) -> None:
        """Make the spool `num_samples` frames long (new frames are zeros)."""
        os.ftruncate(self._fd, num_samples * self._frame_bytes)
        self.num_samples = num_samples

    def _frames(self, data: np.ndarray) -> np.ndarray:
        data = np.ascontiguousarray(data, dtype=np.float32)
        if data.shape[1:] != self.shape[1:]:
            raise ValueError(f"frames shaped {data.shape} do not fit a spool of shape {self.shape}")
        return data

    def __getitem__(self, index: slice) -> np.ndarray:
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("an AudioSpool is read by contiguous ranges, spool[start:stop]")
        start, stop, _ = index.indices(self.num_samples)
        count = max(0, stop - start)
        data = os.pread(self._fd, count * self._frame_bytes, start * self._frame_bytes)
        return np.frombuffer(data, dtype=np.float32).reshape((count, *self.shape[1:])).copy()

    def write(self, start: int, data: np.ndarray) -> None:
        """Write frames at `start`, growing the spool when they pass its end."""
        data = self._frames(data)
        os.pwrite(self._fd, data.tobytes(), start * self._frame_bytes)
        self.num_samples = max(self.num_samples, start + data.shape[0])

    def add(self, start: int, data: np.ndarray) -> None:
        """Add frames to those already at `start` (overlap-add), within the spool's length."""
        data = self._frames(data)[: max(0, self.num_samples - start)]
        self.write(start, self[start : start + data.shape[0]] + data)

    def append(self, data: np.ndarray) -> None:
        """Write frames after the last one."""
        self.write(self.num_samples, data)

    def close(self) -> None:
        """Delete the temporary file."""
        self._file.close()

    def __enter__(self) -> AudioSpool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def resample_to_spool(source, from_rate: int, to_rate: int, num_samples: int) -> AudioSpool:
    """`source` (an array or spool) resampled in chunks to `to_rate`, trimmed or zero-padded to `num_samples`."""
    channels = None if len(source.shape) == 1 else source.shape[1]
    spool = AudioSpool(0, channels)
    if from_rate == to_rate:
        for start in range(0, min(len(source), num_samples), RESAMPLE_CHUNK):
            spool.append(source[start : min(start + RESAMPLE_CHUNK, num_samples)])
    else:
        stream = soxr.ResampleStream(from_rate, to_rate, channels or 1, dtype="float32", quality="HQ")
        for start in range(0, len(source), RESAMPLE_CHUNK):
            chunk = np.asarray(source[start : start + RESAMPLE_CHUNK], dtype=np.float32)
            last = start + RESAMPLE_CHUNK >= len(source)
            out = stream.resample_chunk(chunk, last=last)
            room = num_samples - len(spool)
            if room > 0 and len(out):
                spool.append(out[:room])
    spool.resize(num_samples)
    return spool


__all__ = ["AudioSpool", "resample_to_spool"]
