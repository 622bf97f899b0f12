"""Training the spatial kind: the accelerate loop learns cue tokens from audio and logs spatial metrics."""

import os

import pytest
import torch

pytest.importorskip("accelerate")
pytest.importorskip("datasets")

from mono2stereo.training.config import TrainingConfig  # noqa: E402
from mono2stereo.training.loop import train  # noqa: E402
from tests import REPO


@pytest.mark.slow
def test_a_tiny_spatial_model_lowers_its_loss_and_logs_spatial_metrics(tmp_path):
    synthetic = {"kind": "synthetic", "num_mixes": 32, "duration_s": 0.5, "num_shards": 4}
    config = TrainingConfig(  # with a width head, whose error on the held-out crops is logged too
        model={
            "config": os.path.join(REPO, "configs/model/tiny-spatial.json"),
            "overrides": {"width_head_weight": 1.0},
        },
        data={
            "sources": [synthetic],
            "eval_sources": [{**synthetic, "seed": 100}],
            "silence_db": -200.0,
            "min_width_db": -200.0,
        },
        batch_size=4,
        learning_rate=5e-3,
        warmup_steps=2,
        max_steps=30,
        save_every=100,
        eval_every=30,
        eval_batches=1,
        spatial_eval=True,
        report_to="none",
    )
    result = train(config, str(tmp_path), show_progress=False)
    first, last = sum(result.losses[:5]) / 5, sum(result.losses[-5:]) / 5
    assert last < first
    assert result.model.config.is_spatial
    assert {"eval/loss", "eval/ild_distance_db", "eval/coherence_distance"} <= set(result.eval_metrics)
    assert 0 <= result.eval_metrics["eval/width_head_error_db"] < 46  # within the width range's span


@pytest.mark.slow
@pytest.mark.parametrize("lora", [False, True])
def test_a_spatial_model_is_fine_tuned_on_a_new_style(tmp_path, lora):
    pytest.importorskip("peft")
    from mono2stereo.modeling import Mono2StereoModel, tiny_model
    from mono2stereo.training.config import SourceConfig
    from mono2stereo.training.finetune import finetune

    tiny_model(spatial=True).save_pretrained(tmp_path / "base")
    source = SourceConfig(kind="synthetic", styles=["vintage"], num_mixes=32, duration_s=0.5, num_shards=4)
    out = str(tmp_path / "tuned")
    tuned = finetune(str(tmp_path / "base"), source, "sixties", out, max_steps=4, lora=lora, report_to="none")
    loaded = Mono2StereoModel.from_pretrained(out)
    assert loaded.config.is_spatial and "sixties" in loaded.config.styles
    features = loaded.encode_mono(torch.randn(1, 8000) * 0.1)
    assert torch.equal(
        loaded.generate(features, style="sixties", seed=0), tuned.generate(features, style="sixties", seed=0)
    )
