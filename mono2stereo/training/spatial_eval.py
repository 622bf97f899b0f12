"""Spatial metrics in the periodic eval: the model upmixes held-out examples and is scored against their stereo.

With `spatial_eval: true` in the training config, every eval batch of audio is folded to mono, generated with a
fixed seed and no style or width (what a user gets by default), decoded, rendered `keep-mid` (a spatial model's
cues are synthesised against the mono) and scored with the
evaluation's metrics against the example's own stereo: the level-difference and coherence distribution distances
and the width error, logged as `eval/ild_distance_db`, `eval/coherence_distance` and `eval/width_error_db`.
The loss says how well the model predicts codes; these say how its stereo sounds placed.
"""

from __future__ import annotations

import numpy as np
import torch

from ..audio import CHANNELS_FIRST, fold
from ..evaluation.metrics import evaluate_upmix
from ..inference.rendering import render_keep_mid
from .wrapping import unwrap

SEED = 0
LOGGED = ("ild_distance_db", "coherence_distance", "width_error_db")  # of `mono2stereo eval`'s metrics


@torch.no_grad()
def spatial_metrics(model: torch.nn.Module, batch: dict) -> dict[str, float]:
    """Means over the batch of the upmix's ILD / coherence distances and width error; `{}` for token batches."""
    if "audio" not in batch:
        return {}
    model = unwrap(model)  # DDP and the like wrap the model
    audio = batch["audio"].float()  # (batch, 2, samples) at the codec's rate
    rate = model.config.sampling_rate
    mono = fold(audio, CHANNELS_FIRST)
    codes = model.generate(model.encode_mono(mono), seed=SEED)
    if model.config.is_spatial:  # cues, decoded against the mono
        generated = model.codec.detokenize(codes).float().cpu().numpy()
    else:
        generated = model.decode_stereo(codes, audio.shape[-1]).float().cpu().numpy().transpose(0, 2, 1)
    scores = []
    for reference, decoded, mono_signal in zip(audio.cpu().numpy(), generated, mono.cpu().numpy(), strict=True):
        if model.config.is_spatial:
            upmix = model.codec.synthesize(mono_signal, decoded, rate)
        else:
            upmix = render_keep_mid(mono_signal, decoded, rate)
        scores.append(evaluate_upmix(upmix, reference.T, mono_signal, rate))
    return {key: float(np.nanmean([score[key] for score in scores])) for key in LOGGED}


__all__ = ["spatial_metrics"]
