"""Training the spatial kind: the accelerate loop learns cue tokens from audio and logs spatial metrics."""

import os

import pytest

pytest.importorskip("accelerate")
pytest.importorskip("datasets")

from mono2stereo.training.config import TrainingConfig  # noqa: E402
from mono2stereo.training.loop import train  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_a_tiny_spatial_model_lowers_its_loss_and_logs_spatial_metrics(tmp_path):
    synthetic = {"kind": "synthetic", "num_mixes": 32, "duration_s": 0.5, "num_shards": 4}
    config = TrainingConfig(
        model={"config": os.path.join(ROOT, "configs/model/tiny-spatial.json")},
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
