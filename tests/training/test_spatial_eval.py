"""The periodic eval's spatial metrics score the upmix against the example's own stereo."""

import numpy as np
import torch

from mono2stereo.modeling import tiny_model
from mono2stereo.training.spatial_eval import spatial_metrics
from mono2stereo.training.synthetic import SyntheticMixes


def batch_of_mixes(rate, count=2):
    mixes = SyntheticMixes(num_mixes=count, sampling_rate=rate, duration_s=0.5, styles=["wide"], seed=3)
    return {"audio": torch.stack([mixes[i]["audio"] for i in range(count)])}


def test_a_perfect_upmixer_scores_zero_and_dual_mono_does_not():
    model = tiny_model()
    batch = batch_of_mixes(model.config.sampling_rate)
    reference = batch["audio"]

    model.decode_stereo = lambda codes, num_samples: reference  # generates the reference itself
    perfect = spatial_metrics(model, batch)
    assert perfect["ild_distance_db"] < 1e-3 and perfect["coherence_distance"] < 1e-3
    assert perfect["width_error_db"] < 1e-3

    model.decode_stereo = lambda codes, num_samples: reference.mean(1, keepdim=True).expand(-1, 2, -1)
    dual_mono = spatial_metrics(model, batch)
    assert dual_mono["ild_distance_db"] > 0.5 and dual_mono["width_error_db"] > 10.0


def test_token_batches_have_no_spatial_metrics():
    assert spatial_metrics(tiny_model(), {"mono_codes": torch.zeros(1, 2, 3)}) == {}


def test_the_batch_audio_is_not_changed():
    model = tiny_model()
    batch = batch_of_mixes(model.config.sampling_rate)
    before = batch["audio"].clone()
    values = spatial_metrics(model, batch)
    assert torch.equal(batch["audio"], before) and all(np.isfinite(v) for v in values.values())
