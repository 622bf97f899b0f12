"""`CodecCrops`: an endless stream of mono training crops (one view of stereo material at a random level)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from ...audio import CHANNELS_FIRST, fold, input_gain, side
from .config import VIEWS, DataSettings
from .synthesis import synthetic_stereo_clip

SILENCE_RMS = 1e-4


def mono_view(stereo: torch.Tensor, view: str) -> torch.Tensor:
    """One mono view of stereo `(2, samples)`: the left or right channel, the mid (L+R)/2 or the side (L-R)/2."""
    if view == "left":
        return stereo[0]
    if view == "right":
        return stereo[1]
    if view == "mid":
        return fold(stereo, CHANNELS_FIRST)
    if view == "side":
        return side(stereo, CHANNELS_FIRST)
    raise ValueError(f"unknown view {view!r}; use one of {', '.join(VIEWS)}")


def set_level(audio: torch.Tensor, level_db: float, peak: float = 0.99) -> torch.Tensor:
    """Scale `audio` to an RMS of `level_db` dBFS, then down if needed so its peak stays under `peak`."""
    rms = audio.pow(2).mean().sqrt().clamp(min=1e-8)
    audio = audio * (10 ** (level_db / 20) / rms)
    return audio * input_gain(audio.abs().max().item(), ceiling=peak)


class CodecCrops(torch.utils.data.IterableDataset):
    """Endless mono float32 crops `(crop_samples,)` from stereo renders and synthesised clips, seeded."""

    def __init__(
        self,
        renders: list[Path] | list[np.ndarray],
        settings: DataSettings,
        sampling_rate: int,
        crop_samples: int,
        seed: int = 0,
    ) -> None:
        self.renders = renders
        self.settings = settings
        self.sampling_rate = sampling_rate
        self.crop_samples = crop_samples
        self.seed = seed
        if not renders and settings.synthetic_fraction < 1.0:
            raise ValueError("no rendered pieces given and data.synthetic_fraction < 1; render pieces or set it to 1")

    def _load_renders(self) -> list[torch.Tensor]:
        """Each render as `(2, samples)`, at least one crop long."""
        loaded = []
        for render in self.renders:
            audio = render if isinstance(render, np.ndarray) else sf.read(str(render), dtype="float32")[0]
            audio = torch.from_numpy(np.ascontiguousarray(np.atleast_2d(audio.T)))
            if audio.shape[0] == 1:
                audio = audio.expand(2, -1)
            if audio.shape[1] >= self.crop_samples:
                loaded.append(audio)
        return loaded

    def __iter__(self):
        worker = torch.utils.data.get_worker_info()
        generator = torch.Generator().manual_seed(self.seed * 7919 + (worker.id if worker else 0))
        renders = self._load_renders()
        views = list(self.settings.view_weights)
        view_weights = torch.tensor([self.settings.view_weights[v] for v in views], dtype=torch.float)
        low_db, high_db = self.settings.level_db_range
        while True:
            if not renders or torch.rand((), generator=generator).item() < self.settings.synthetic_fraction:
                stereo = synthetic_stereo_clip(self.crop_samples, self.sampling_rate, generator)
            else:
                render = renders[int(torch.randint(len(renders), (), generator=generator))]
                start = int(torch.randint(render.shape[1] - self.crop_samples + 1, (), generator=generator))
                stereo = render[:, start : start + self.crop_samples]
            crop = mono_view(stereo, views[int(torch.multinomial(view_weights, 1, generator=generator))])
            if crop.pow(2).mean().sqrt().item() < SILENCE_RMS:
                continue
            level = low_db + (high_db - low_db) * torch.rand((), generator=generator).item()
            yield set_level(crop.float(), level).contiguous()
