"""A catalogue on two real CPU processes: `accelerate launch ... -m mono2stereo upmix|mix FOLDER -o OUT`."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests import REPO

pytest.importorskip("accelerate")
CORRUPT = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(100))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch_two_processes(*argv, cwd: Path) -> subprocess.CompletedProcess:
    """`ACCELERATE_USE_CPU=true accelerate launch --multi_gpu --num_processes 2 -m mono2stereo ARGV`."""
    env = dict(
        os.environ,
        ACCELERATE_USE_CPU="true",
        OMP_NUM_THREADS="1",
        HF_HUB_OFFLINE="1",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    )
    command = [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
        "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
        "--main_process_port", str(free_port()), "-m", "mono2stereo", *map(str, argv),
    ]  # fmt: skip
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def noise(seed: int, samples: int = 4000) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(samples) * 0.1).astype(np.float32)


@pytest.mark.slow
def test_two_processes_upmix_every_file_of_an_album_once_and_report_a_bad_one(tmp_path):
    album = tmp_path / "album"
    album.mkdir()
    for index in range(5):
        sf.write(album / f"song{index}.wav", noise(index), 8000)
    (album / "broken.wav").write_bytes(CORRUPT)
    result = launch_two_processes("upmix", album, "-o", tmp_path / "out", "--model", "dsp:allpass", cwd=tmp_path)
    assert result.returncode != 0  # one file failed
    # each file written once: a second write of an output would have failed with "already exists"
    assert "already exists" not in result.stderr
    assert sorted(os.listdir(tmp_path / "out")) == [f"song{index}.wav" for index in range(5)]
    assert result.stderr.count("cannot read") == 1 and "broken.wav" in result.stderr
    assert "upmix: 5 of 6 done on 2 processes" in result.stderr
    for index in range(5):
        stereo, rate = sf.read(tmp_path / "out" / f"song{index}.wav", dtype="float32")
        assert rate == 8000 and stereo.shape == (4000, 2)
        np.testing.assert_allclose(stereo.mean(axis=1), noise(index), atol=1e-3)  # its own input, not another's


@pytest.mark.slow
def test_two_processes_mix_a_folder_of_songs_once_each(tmp_path):
    catalogue = tmp_path / "stems"
    for index in range(3):
        (catalogue / f"song{index}").mkdir(parents=True)
        sf.write(catalogue / f"song{index}" / "bass.wav", noise(index), 8000)
        sf.write(catalogue / f"song{index}" / "vocals.wav", noise(10 + index), 8000)
    result = launch_two_processes("mix", catalogue, "-o", tmp_path / "out", "--no-upmix", "--seed", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(os.listdir(tmp_path / "out")) == ["song0.wav", "song1.wav", "song2.wav"]
    assert "mix: 3 of 3 done on 2 processes" in result.stderr
    for index in range(3):
        stereo, _ = sf.read(tmp_path / "out" / f"song{index}.wav", dtype="float32")
        np.testing.assert_allclose(stereo.mean(axis=1), noise(index) + noise(10 + index), atol=2e-4)
