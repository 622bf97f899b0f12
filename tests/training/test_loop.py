"""The accelerate loop: learning, two processes, and exact resume after a SIGKILL."""

import os
import signal
import subprocess
import sys
import time

import pytest
import yaml
from safetensors.torch import load_file

pytest.importorskip("accelerate")
pytest.importorskip("datasets")

from mono2stereo.training.config import TrainingConfig  # noqa: E402
from mono2stereo.training.loop import train  # noqa: E402
from tests import REPO


def tiny_settings(**overrides) -> dict:
    """A tiny model on a few synthetic mixes, every crop kept, no trackers."""
    settings = {
        "model": {"config": os.path.join(REPO, "configs/model/tiny.json"), "random_codebooks": True},
        "data": {
            "sources": [{"kind": "synthetic", "num_mixes": 16, "duration_s": 0.25, "num_shards": 4}],
            "silence_db": -200.0,
            "min_width_db": -200.0,
        },
        "batch_size": 2,
        "learning_rate": 3e-3,
        "warmup_steps": 2,
        "max_steps": 8,
        "save_every": 4,
        "report_to": "none",
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(settings.get(key), dict):
            settings[key] = {**settings[key], **value}
        else:
            settings[key] = value
    return settings


def write_config(folder, **overrides) -> str:
    path = os.path.join(folder, "config.yaml")
    with open(path, "w") as file:
        yaml.safe_dump(tiny_settings(**overrides), file)
    return path


def command_env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}


def test_tiny_model_lowers_its_loss(tmp_path):
    config = TrainingConfig(**tiny_settings(max_steps=30, batch_size=4, save_every=100, learning_rate=5e-3))
    result = train(config, str(tmp_path), show_progress=False)
    first, last = sum(result.losses[:5]) / 5, sum(result.losses[-5:]) / 5
    assert result.step == 30
    assert last < 0.75 * first, result.losses
    assert os.path.isfile(tmp_path / "model.safetensors")


def test_checkpoints_are_pruned_to_the_total_limit(tmp_path):
    config = TrainingConfig(**tiny_settings(max_steps=6, save_every=2, save_total_limit=2))
    train(config, str(tmp_path), show_progress=False)
    assert sorted(os.listdir(tmp_path / "checkpoints")) == ["step-4", "step-6"]


@pytest.mark.slow  # over 4 s on a 2-core CPU
def test_two_cpu_processes_share_weights_and_split_the_examples(tmp_path):
    accelerate = os.path.join(os.path.dirname(sys.executable), "accelerate")
    # 16 mixes in 4 shards, 2 per process, batch 2: one epoch is 4 steps on each process.
    config = write_config(str(tmp_path), max_steps=4, save_every=100, trace_ranks=True)
    env = {**command_env(), "ACCELERATE_USE_CPU": "true"}
    command = [accelerate, "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1"]
    command += ["--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", "29533"]
    command += ["-m", "mono2stereo.training", "train", "--config", config, "--output-dir", str(tmp_path)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    ids = []
    for rank in (0, 1):
        with open(tmp_path / f"trace-rank{rank}-ids.txt") as file:
            ids.append([line.split("\t")[1].strip() for line in file])
    assert len(ids[0]) == len(ids[1]) == 8
    assert not set(ids[0]) & set(ids[1])
    assert sorted(ids[0] + ids[1]) == sorted(f"synthetic-0-{i}#0" for i in range(16))
    digests = [open(tmp_path / f"trace-rank{rank}-weights.txt").read() for rank in (0, 1)]
    assert digests[0] == digests[1]


@pytest.mark.slow  # over 4 s on a 2-core CPU
def test_killed_run_resumes_to_the_same_weights(tmp_path):
    settings = dict(max_steps=24, save_every=4, gradient_accumulation_steps=2, data={"shuffle_buffer": 4})
    reference = tmp_path / "reference"
    train(TrainingConfig(**tiny_settings(**settings)), str(reference), show_progress=False)

    killed = tmp_path / "killed"
    killed.mkdir()
    config = write_config(str(killed), **settings)
    command = [sys.executable, "-m", "mono2stereo", "train", "--config", config, "--output-dir", str(killed)]
    process = subprocess.Popen(command + ["--no-progress"], env=command_env(), stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while not (killed / "checkpoints" / "step-4").is_dir() and time.time() < deadline:
        assert process.poll() is None, process.stderr.read().decode()[-3000:]
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL
    assert not (killed / "model.safetensors").exists()  # it really stopped before the end
    assert (killed / "config.json").is_file()  # written at the start: a checkpoint can be released mid-run
    done = subprocess.run(command + ["--resume", "latest", "--no-progress"], env=command_env(), capture_output=True)
    assert done.returncode == 0, done.stderr.decode()[-3000:]

    expected, resumed = load_file(reference / "model.safetensors"), load_file(killed / "model.safetensors")
    assert expected.keys() == resumed.keys()
    for name in expected:
        assert (expected[name] - resumed[name]).abs().max() < 1e-5, name


def test_spatial_eval_logs_the_upmix_scores(tmp_path):
    eval_source = {"kind": "synthetic", "num_mixes": 4, "duration_s": 0.25, "num_shards": 1, "seed": 100}
    settings = tiny_settings(max_steps=2, eval_every=2, eval_batches=1, spatial_eval=True)
    settings["data"]["eval_sources"] = [eval_source]
    result = train(TrainingConfig(**settings), str(tmp_path), show_progress=False)
    for key in ("eval/loss", "eval/ild_distance_db", "eval/coherence_distance", "eval/width_error_db"):
        assert key in result.eval_metrics and result.eval_metrics[key] >= 0.0, result.eval_metrics
