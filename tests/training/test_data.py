"""Data: synthetic mixes, local folders, webdataset tars, a Hub dataset laid out on disk, token shards."""

import io
import json
import os
import tarfile
from collections import Counter

import numpy as np
import pytest
import soundfile
import torch

pytest.importorskip("datasets")

from mono2stereo.modeling import stereo_width_db, tiny_model  # noqa: E402
from mono2stereo.training.config import DataConfig, SourceConfig  # noqa: E402
from mono2stereo.training.preprocessing import CodecEncoder, training_examples  # noqa: E402
from mono2stereo.training.stream import TrainingStream  # noqa: E402
from mono2stereo.training.synthetic import SyntheticMixes  # noqa: E402
from mono2stereo.training.token_shards import TokenShardWriter, list_token_shards  # noqa: E402

KEEP_ALL = dict(silence_db=-200.0, min_width_db=-200.0)


def stereo_tone(seconds=0.3, rate=8000, pan=0.8, seed=0) -> np.ndarray:
    """Noise panned to one side, `(samples, 2)` as soundfile writes it."""
    signal = np.random.default_rng(seed).standard_normal(int(seconds * rate)).astype(np.float32) * 0.2
    return np.stack([signal * (1 - pan), signal * (1 + pan)], axis=1) / 2


def test_synthetic_mixes_are_seeded_and_styled():
    mixes = SyntheticMixes(num_mixes=24, sampling_rate=8000, duration_s=0.5, seed=3)
    again = SyntheticMixes(num_mixes=24, sampling_rate=8000, duration_s=0.5, seed=3)
    other = SyntheticMixes(num_mixes=24, sampling_rate=8000, duration_s=0.5, seed=4)
    assert torch.equal(mixes[5]["audio"], again[5]["audio"])
    assert not torch.equal(mixes[5]["audio"], other[5]["audio"])
    assert mixes[5]["audio"].shape == (2, 4000) and mixes[5]["audio"].dtype == torch.float32
    widths = {}
    for style in ("narrow", "wide"):
        styled = SyntheticMixes(num_mixes=8, sampling_rate=8000, duration_s=0.5, styles=[style], seed=1)
        widths[style] = np.mean([stereo_width_db(mix["audio"]).item() for mix in styled])
    assert widths["wide"] > widths["narrow"] + 6


def test_crops_skip_silence_and_near_mono():
    config = tiny_model().config
    data = DataConfig(silence_db=-60.0, min_width_db=-30.0, crops_per_example=2)
    skipped = Counter()
    silent = {"audio": np.zeros((2, 4000), np.float32), "style": None, "id": "silent"}
    mono = np.random.default_rng(0).standard_normal(4000).astype(np.float32) * 0.1
    near_mono = {"audio": np.stack([mono, mono * 1.001]), "style": None, "id": "mono"}
    stereo = {"audio": stereo_tone(0.5).T.copy(), "style": "wide", "id": "stereo"}
    rng = np.random.default_rng(0)
    kept = [e for ex in (silent, near_mono, stereo) for e in training_examples(ex, config, data, rng, skipped)]
    assert skipped == Counter(silent=2, near_mono=2)
    assert [e["id"] for e in kept] == ["stereo#0", "stereo#1"]
    assert kept[0]["audio"].shape == (2, config.window_frames * config.hop_length)
    assert kept[0]["width_db"] == pytest.approx(stereo_width_db(torch.from_numpy(stereo["audio"])).item(), abs=1.5)


def test_corrupt_files_in_a_folder_are_skipped_and_counted(tmp_path):
    for i in range(3):
        soundfile.write(tmp_path / f"good{i}.wav", stereo_tone(seed=i), 16000)  # resampled to 8 kHz
    (tmp_path / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage")
    (tmp_path / "truncated.flac").write_bytes(b"fLaC\x00\x00")
    model_config = tiny_model().config
    data = DataConfig(sources=[SourceConfig(kind="folder", path=str(tmp_path), style="vintage")], **KEEP_ALL)
    stream = TrainingStream(data.sources, data, model_config)
    examples = list(stream.dataset())
    assert sorted(e["id"].split(os.sep)[-1] for e in examples) == ["good0.wav#0", "good1.wav#0", "good2.wav#0"]
    assert stream.skipped["undecodable"] == 2
    assert all(e["style"] == "vintage" and e["audio"].shape == (2, 800) for e in examples)


def test_webdataset_tar_shards_are_streamed(tmp_path):
    for shard in range(2):
        with tarfile.open(tmp_path / f"data-{shard}.tar", "w") as tar:
            for i in range(2):
                buffer = io.BytesIO()
                soundfile.write(buffer, stereo_tone(seed=10 * shard + i), 8000, format="FLAC")
                for name, payload in (
                    (f"{shard}-{i}.flac", buffer.getvalue()),
                    (f"{shard}-{i}.json", b'{"style": "wide"}'),
                ):
                    info = tarfile.TarInfo(name)
                    info.size = len(payload)
                    tar.addfile(info, io.BytesIO(payload))
    data = DataConfig(sources=[SourceConfig(kind="webdataset", path=str(tmp_path / "data-*.tar"))], **KEEP_ALL)
    stream = TrainingStream(data.sources, data, tiny_model().config)
    dataset = stream.dataset()
    assert dataset.num_shards == 2
    examples = list(dataset)
    assert len(examples) == 4 and {e["style"] for e in examples} == {"wide"}


def test_hub_dataset_repository_on_disk_keeps_both_channels(tmp_path):
    import datasets

    rows = {"audio": [], "style": []}
    for i in range(4):
        buffer = io.BytesIO()
        soundfile.write(buffer, stereo_tone(seed=i, pan=0.9), 8000, format="WAV")
        rows["audio"].append({"bytes": buffer.getvalue(), "path": f"track{i}.wav"})
        rows["style"].append("modern")
    table = datasets.Dataset.from_dict(rows).cast_column("audio", datasets.Audio())
    (tmp_path / "data").mkdir()
    table.select(range(2)).to_parquet(str(tmp_path / "data" / "train-00000-of-00002.parquet"))
    table.select(range(2, 4)).to_parquet(str(tmp_path / "data" / "train-00001-of-00002.parquet"))
    (tmp_path / "README.md").write_text("---\nlicense: cc-by-4.0\n---\nA tiny stereo dataset.\n")

    source = SourceConfig(kind="hub", path=str(tmp_path), style_column="style")
    data = DataConfig(sources=[source], swap_probability=0.0, **KEEP_ALL)
    stream = TrainingStream(data.sources, data, tiny_model().config)
    examples = list(stream.dataset())
    assert len(examples) == 4 and {e["style"] for e in examples} == {"modern"}
    # Both channels kept: the right channel is much louder than the left, as written.
    for example in examples:
        left, right = np.abs(example["audio"]).mean(-1)
        assert right > 5 * left


def test_token_shards_round_trip_and_match_in_loop_encoding(tmp_path):
    model = tiny_model()
    data = DataConfig(sources=[SourceConfig(kind="synthetic", num_mixes=6, duration_s=0.25, num_shards=2)], **KEEP_ALL)
    audio_stream = TrainingStream(data.sources, data, model.config)
    batch = audio_stream.collate(list(audio_stream.dataset()))
    mono, stereo = CodecEncoder(model)(batch["audio"])
    writer = TokenShardWriter(str(tmp_path), model.config, examples_per_shard=4)
    styles = [model.config.styles[i] for i in batch["style_ids"]]
    writer.add(mono, stereo, batch["width_db"], styles, batch["ids"])
    assert writer.close() == 2 and len(list_token_shards(str(tmp_path))) == 2

    data.swap_probability = 0.0
    tokens = TrainingStream([SourceConfig(kind="tokens", path=str(tmp_path))], data, model.config)
    token_batch = tokens.collate(list(tokens.dataset()))
    assert token_batch["ids"] == batch["ids"]
    assert torch.equal(token_batch["mono_codes"], mono) and torch.equal(token_batch["stereo_codes"], stereo)
    assert torch.equal(token_batch["style_ids"], batch["style_ids"])
    (tmp_path / "tokens-00001.safetensors").write_bytes(b"not a safetensors file")
    assert len(list(tokens.dataset())) == 4 and tokens.skipped["undecodable"] == 1


def test_weighted_interleaving_follows_the_weights():
    model_config = tiny_model().config
    heavy = SourceConfig(kind="synthetic", num_mixes=200, duration_s=0.1, num_shards=1, seed=1, weight=3.0)
    light = SourceConfig(kind="synthetic", num_mixes=200, duration_s=0.1, num_shards=1, seed=2, weight=1.0)
    data = DataConfig(sources=[heavy, light], **KEEP_ALL)
    stream = TrainingStream(data.sources, data, model_config)
    first = [e["id"] for _, e in zip(range(100), stream.dataset())]
    share = sum(i.startswith("synthetic-1-") for i in first) / len(first)
    assert 0.6 < share < 0.9
    assert first == [e["id"] for _, e in zip(range(100), stream.dataset())]  # seeded
    assert json.dumps(first)  # ids are plain strings


def test_train_command_reports_a_bad_config_in_one_line(tmp_path, capsys):
    from mono2stereo.cli import main

    bad = tmp_path / "bad.yaml"
    bad.write_text("batch_sise: 4\n")
    assert main(["train", "--config", str(bad), "--output-dir", str(tmp_path / "run")]) == 1
    assert "unknown TrainingConfig setting(s) batch_sise" in capsys.readouterr().err


def test_weights_hold_when_a_large_source_outlasts_a_small_one(tmp_path):
    """A folder of 40 files against 2,000 synthetic mixes, weights 1:1: half the epoch is folder examples."""
    for i in range(40):
        soundfile.write(tmp_path / f"song{i:02d}.wav", stereo_tone(seconds=0.1, seed=i), 8000)
    folder = SourceConfig(kind="folder", path=str(tmp_path), weight=1.0)
    mixes = SourceConfig(kind="synthetic", num_mixes=2000, duration_s=0.1, num_shards=1, seed=1, weight=1.0)
    data = DataConfig(sources=[folder, mixes], **KEEP_ALL)
    stream = TrainingStream(data.sources, data, tiny_model().config)
    epoch = [e["id"] for e in stream.dataset()]
    from_folder = [i for i in epoch if i.startswith(str(tmp_path))]
    assert len(from_folder) == 40  # the folder runs out first, each file used once
    assert 0.35 < len(from_folder) / len(epoch) < 0.65
    assert from_folder != sorted(from_folder)  # files in an order drawn for the epoch, not by name
    stream.set_epoch(1)
    assert [i for i in (e["id"] for e in stream.dataset()) if i.startswith(str(tmp_path))] != from_folder
