"""Multitrack mixes rendered once into tar shards: resumed without rendering again, and streamed with their styles."""

import io
import json
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest
import soundfile

pytest.importorskip("datasets")

from mono2stereo.modeling import tiny_model  # noqa: E402
from mono2stereo.training.config import DataConfig, SourceConfig  # noqa: E402
from mono2stereo.training.multitrack import MultitrackMixes  # noqa: E402
from mono2stereo.training.multitrack_shards import main  # noqa: E402
from mono2stereo.training.stream import TrainingStream  # noqa: E402

TIMGM = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")
pytestmark = pytest.mark.skipif(
    shutil.which("fluidsynth") is None or not TIMGM.is_file(), reason="fluidsynth or timgm6mb-soundfont missing"
)
RATE = 16000
ARGS = ["--seconds", "1", "--sampling-rate", str(RATE), "--soundfont", str(TIMGM), "--seed", "3"]
ARGS += ["--mixes-per-shard", "2", "--workers", "1"]


def shard_records(out: Path) -> dict[str, tuple[np.ndarray, dict]]:
    """Every mix of the shards in `out`: key -> (audio `(samples, 2)`, JSON record)."""
    records = {}
    for shard in sorted(out.glob("shard-*.tar")):
        with tarfile.open(shard) as tar:
            members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
        for name, data in members.items():
            if name.endswith(".flac"):
                key = name[: -len(".flac")]
                info = soundfile.info(io.BytesIO(data))
                assert (info.subtype, info.samplerate, info.channels) == ("PCM_16", RATE, 2)
                audio, _ = soundfile.read(io.BytesIO(data), dtype="float32")
                records[key] = (audio, json.loads(members[key + ".json"]))
    return records


def test_the_precompute_command_writes_the_mixes_once_and_resumes(tmp_path, capsys):
    out = tmp_path / "mixes"
    assert main([str(out), "--mixes", "3", *ARGS]) == 0
    printed = capsys.readouterr()
    assert "3 mixes" in printed.out and "3 rendered" in printed.out and "MB on disk" in printed.out
    assert "TimGM6mb" in printed.err  # the SoundFont used is named
    assert sorted(p.name for p in out.glob("*.tar")) == ["shard-00000.tar", "shard-00001.tar"]
    records = shard_records(out)
    assert sorted(records) == ["mix-0000000", "mix-0000001", "mix-0000002"]
    mixes = MultitrackMixes(3, RATE, 1.0, seed=3, soundfont=TIMGM)
    for index, (audio, record) in enumerate(records[k] for k in sorted(records)):
        mix = mixes[index]
        assert record["style"] == mix["style"] and record["id"] == mix["id"]
        assert {s["name"]: s["pan"] for s in record["stems"]} == mix["positions"]
        assert {"role", "program", "channel", "pan", "delay_ms", "level_db"} <= set(record["stems"][0])
        np.testing.assert_allclose(audio.T, mix["audio"], atol=1.5 / 32768)  # 16-bit FLAC of the same mix
    written = {p.name: p.stat().st_mtime_ns for p in out.glob("*.tar")}

    assert main([str(out), "--mixes", "3", *ARGS]) == 0
    assert "0 rendered" in capsys.readouterr().out
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.tar")} == written

    assert main([str(out), "--mixes", "4", *ARGS]) == 0  # the last shard grows from 1 mix to 2
    assert "2 rendered" in capsys.readouterr().out
    assert sorted(shard_records(out)) == [f"mix-{i:07d}" for i in range(4)]
    assert out.joinpath("shard-00000.tar").stat().st_mtime_ns == written["shard-00000.tar"]

    assert main([str(out), "--mixes", "4", *ARGS, "--seconds", "2"]) == 2
    assert "other settings" in capsys.readouterr().err


def test_the_written_shards_stream_through_training_with_their_styles(tmp_path):
    out = tmp_path / "mixes"
    assert main([str(out), "--mixes", "4", *ARGS]) == 0
    styles = {key: record["style"] for key, (_, record) in shard_records(out).items()}
    data = DataConfig(sources=[SourceConfig(kind="webdataset", path=str(out))], silence_db=-200.0, min_width_db=-200.0)
    stream = TrainingStream(data.sources, data, tiny_model().config)
    dataset = stream.dataset()
    assert dataset.num_shards == 2
    examples = list(dataset)
    assert sorted(e["id"].rsplit(":", 1)[-1].split("#")[0] for e in examples) == sorted(styles)
    assert all(e["style"] == styles[e["id"].rsplit(":", 1)[-1].split("#")[0]] for e in examples)
