"""Training that cannot go on stops with one line; small data trains; damaged checkpoints fall back to good ones."""

import logging
import os
import shutil
import signal

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("accelerate")
pytest.importorskip("datasets")

from mono2stereo.training.checkpoints import CheckpointFolder  # noqa: E402
from mono2stereo.training.config import TrainingConfig  # noqa: E402
from mono2stereo.training.loop import train, weights_digest  # noqa: E402
from tests import REPO

RATE = 8000  # the tiny codec's


class Hang(BaseException):
    """Raised when training runs past its time; not an Exception, so no `except Exception` in a reader keeps it."""


@pytest.fixture
def deadline():
    """Fail a test that runs past 60 s instead of hanging the suite (a hang is the defect under test)."""

    def expire(signum, frame):
        if frame is not None and frame.f_code.co_name == "__del__":  # Python ignores errors raised in __del__
            signal.setitimer(signal.ITIMER_REAL, 0.5)
            return
        raise Hang("training did not stop within 60 s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, 60)
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


def settings(data: dict | None = None, **overrides) -> dict:
    values = {
        "model": {"config": os.path.join(REPO, "configs/model/tiny.json"), "random_codebooks": True},
        "data": {
            "sources": [{"kind": "synthetic", "num_mixes": 8, "duration_s": 0.25, "num_shards": 2}],
            "silence_db": -200.0,
            "min_width_db": -200.0,
        },
        "batch_size": 2,
        "warmup_steps": 1,
        "max_steps": 4,
        "save_every": 2,
        "save_total_limit": 3,
        "report_to": "none",
    }
    if data:
        values["data"] = {**values["data"], **data}
    values.update(overrides)
    return values


def audio_folder(folder, kind: str, count: int = 3) -> str:
    """A folder of `count` files: `mono`, `undecodable` (bytes that are no audio) or `stereo` noise."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    for index in range(count):
        path = os.path.join(folder, f"{kind}-{index}.wav")
        if kind == "undecodable":
            with open(path, "wb") as file:
                file.write(rng.bytes(2000))
        else:
            channels = 1 if kind == "mono" else 2
            sf.write(path, 0.1 * rng.standard_normal((RATE // 2, channels)), RATE)
    return str(folder)


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("mono", "narrower than data.min_width_db"), ("undecodable", "could not be decoded")],
)
def test_a_folder_without_usable_examples_stops_with_the_reason(tmp_path, deadline, kind, reason):
    folder = audio_folder(tmp_path / "data", kind)
    config = TrainingConfig(**settings(data={"sources": [{"kind": "folder", "path": folder}], "min_width_db": -40.0}))
    with pytest.raises(ValueError, match="no usable training example") as error:
        train(config, str(tmp_path / "run"), show_progress=False)
    assert "3 files or records read" in str(error.value) and reason in str(error.value)
    assert "\n" not in str(error.value)


def test_a_folder_smaller_than_the_batch_trains_on_smaller_batches(tmp_path, deadline, caplog):
    folder = audio_folder(tmp_path / "data", "stereo", count=2)
    config = TrainingConfig(**settings(data={"sources": [{"kind": "folder", "path": folder}]}, batch_size=8))
    with caplog.at_level(logging.WARNING, logger="mono2stereo"):
        result = train(config, str(tmp_path / "run"), max_steps=3, show_progress=False)
    assert result.step == 3
    assert "2 training examples per epoch, fewer than batch_size=8" in caplog.text


def test_finetuning_on_a_folder_smaller_than_the_batch_takes_several_crops_per_file(tmp_path, deadline, caplog):
    pytest.importorskip("peft")
    from mono2stereo.modeling import tiny_model
    from mono2stereo.training.finetune import finetune

    folder = audio_folder(tmp_path / "data", "stereo", count=2)
    with caplog.at_level(logging.WARNING, logger="mono2stereo"):
        model = finetune(tiny_model(), folder, "sixties", str(tmp_path / "run"), max_steps=2, report_to="none")
    assert "sixties" in model.config.styles
    assert "taking 4 crops of each" in caplog.text
    assert "fewer than batch_size" not in caplog.text  # the batch was full


def test_resume_latest_without_a_checkpoint_starts_a_new_run(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="mono2stereo"):
        result = train(TrainingConfig(**settings()), str(tmp_path), max_steps=2, resume="latest", show_progress=False)
    assert result.step == 2
    assert "no checkpoint" in caplog.text and "starting a new run" in caplog.text


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A run of 4 steps with checkpoints at steps 2 and 4, and the digest of a run continued to step 6 from 2."""
    folder = tmp_path_factory.mktemp("run")
    train(TrainingConfig(**settings()), str(folder / "run"), show_progress=False, save_model=False)
    continued = folder / "continued"
    shutil.copytree(folder / "run", continued)
    shutil.rmtree(continued / "checkpoints" / "step-4")
    result = train(TrainingConfig(**settings()), str(continued), 6, "latest", show_progress=False, save_model=False)
    return folder / "run", weights_digest(result.model)


def truncate(path):
    with open(path, "r+b") as file:
        file.truncate(os.path.getsize(path) // 2)


def empty(path):
    open(path, "wb").close()


def randomise(path):
    with open(path, "wb") as file:
        file.write(np.random.default_rng(1).bytes(4096))


DAMAGES = {
    "truncated model.safetensors": ("model.safetensors", truncate),
    "random model.safetensors": ("model.safetensors", randomise),
    "empty optimizer.bin": ("optimizer.bin", empty),
    "cut optimizer.bin": ("optimizer.bin", truncate),
    "random scheduler.bin": ("scheduler.bin", randomise),
    "missing random_states_0.pkl": ("random_states_0.pkl", os.remove),
    "broken progress-rank0.json": ("progress-rank0.json", randomise),
    "empty step folder": (None, None),
}


def damage(checkpoint, case: str) -> str:
    name, how = DAMAGES[case]
    if name is None:
        shutil.rmtree(checkpoint)
        os.makedirs(checkpoint)
        return os.path.basename(checkpoint)
    how(os.path.join(checkpoint, name))
    return name


@pytest.mark.parametrize("case", list(DAMAGES))
def test_resume_passes_over_a_damaged_newest_checkpoint(finished_run, tmp_path, caplog, case):
    run, expected_digest = finished_run
    folder = tmp_path / "run"
    shutil.copytree(run, folder)
    name = damage(folder / "checkpoints" / "step-4", case)
    with caplog.at_level(logging.WARNING, logger="mono2stereo"):
        result = train(TrainingConfig(**settings()), str(folder), 6, "latest", show_progress=False, save_model=False)
    assert "skipping a damaged checkpoint" in caplog.text and name in caplog.text
    assert result.step == 6
    assert weights_digest(result.model) == expected_digest  # it went on from step 2, exactly


def test_resume_with_no_good_checkpoint_names_the_damaged_file(finished_run, tmp_path):
    run, _ = finished_run
    folder = tmp_path / "run"
    shutil.copytree(run, folder)
    for step in (2, 4):
        truncate(folder / "checkpoints" / f"step-{step}" / "optimizer.bin")
    with pytest.raises(ValueError, match=r"no good checkpoint .*step-4.optimizer\.bin is damaged"):
        train(TrainingConfig(**settings()), str(folder), 6, "latest", show_progress=False, save_model=False)


def test_a_run_killed_between_commit_and_prune_is_pruned_on_start(finished_run, tmp_path):
    run, _ = finished_run
    folder = tmp_path / "run"
    shutil.copytree(run, folder)
    shutil.copytree(folder / "checkpoints" / "step-2", folder / "checkpoints" / "step-1")  # one beyond the limit
    config = TrainingConfig(**settings(save_total_limit=2))
    train(config, str(folder), 4, "latest", show_progress=False, save_model=False)
    assert CheckpointFolder(str(folder / "checkpoints")).steps() == [2, 4]
