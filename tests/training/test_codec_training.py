"""Codec training: the residual VQ learns, the codec round-trips through transformers, the data is seeded."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import EncodecModel

from mono2stereo.modeling.codec import tiny_codec_config
from mono2stereo.training.codec import (
    CodecCrops,
    CodecTrainer,
    CodecTrainingConfig,
    codec_round_trip,
    log_mel_distance,
    midi_bytes,
    mono_view,
    random_general_midi,
    synthetic_stereo_clip,
    train_codec,
)
from mono2stereo.training.codec.__main__ import main as codec_main
from mono2stereo.training.codec.render import general_midi_renders
from mono2stereo.training.codec.state_file import load_state
from tests import REPO

HAS_FLUIDSYNTH = shutil.which("fluidsynth") is not None and Path("/usr/share/sounds/sf2").is_dir()


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models gain nothing from threads, and on a busy machine extra threads only wait for each other."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny_training_config(**training) -> CodecTrainingConfig:
    """A tiny 8 kHz codec (2 codebooks of 32) trained on synthesised clips only."""
    values = {
        "codec": tiny_codec_config().to_diff_dict(),
        "quantizer": {"kmeans_iterations": 5, "kmeans_init_crops": 8, "dead_code_threshold": 0.01},
        "losses": {"stft_fft_sizes": [64, 128], "mel_fft_size": 128, "mel_bands": 16},
        "training": {"crop_seconds": 0.1, "batch_size": 4, "max_steps": 40, "warmup_steps": 1, "learning_rate": 3e-3},
        "data": {"synthetic_fraction": 1.0},
    }
    values["training"].update(training)
    return CodecTrainingConfig.from_dict(values)


def fixed_batch(config: CodecTrainingConfig, size: int = 4, seed: int = 0) -> torch.Tensor:
    crops = CodecCrops([], config.data, config.codec.sampling_rate, config.crop_samples, seed=seed)
    stream = iter(crops)
    return torch.stack([next(stream) for _ in range(size)])


def eval_loss(trainer: CodecTrainer, batch: torch.Tensor) -> float:
    trainer.codec.eval()
    trainer.quantizer.eval()
    with torch.no_grad():
        decoded, _ = trainer.reconstruct(batch)
        return float(trainer.loss(decoded, batch)[0])


@pytest.fixture
def trained() -> tuple[CodecTrainer, torch.Tensor, dict[str, torch.Tensor]]:
    torch.manual_seed(0)
    config = tiny_training_config()
    trainer = CodecTrainer(config)
    batch = fixed_batch(config)
    trainer.initialize_codebooks(batch)
    initial = {name: buffer.clone() for name, buffer in trainer.codec.quantizer.named_buffers()}
    return trainer, batch, initial


def test_rvq_training_lowers_the_reconstruction_loss(trained):
    trainer, batch, _ = trained
    before = eval_loss(trainer, batch)
    for _ in range(40):
        metrics = trainer.step(batch)
    after = eval_loss(trainer, batch)
    assert np.isfinite(metrics["loss"]) and metrics["commitment"] >= 0
    assert after < 0.8 * before, (before, after)


def test_kmeans_initialisation_spreads_the_codes(trained):
    trainer, batch, _ = trained
    for codebook in trainer.quantizer.codebooks:
        assert codebook.embed.abs().sum() > 0
        torch.testing.assert_close(codebook.embed_avg, codebook.embed * codebook.cluster_size[:, None])
    with torch.no_grad():
        codes = trainer.quantizer.eval()(trainer.codec.encoder(batch[:, None])).codes
    assert codes.shape == (2, batch.shape[0], trainer.config.crop_samples // trainer.config.codec.hop_length)
    assert all(len(torch.unique(c)) > 8 for c in codes)


def test_ema_buffers_change_and_the_codec_round_trips_through_transformers(trained, tmp_path):
    trainer, batch, initial = trained
    for _ in range(5):
        trainer.step(batch)
    for name, buffer in trainer.codec.quantizer.named_buffers():
        if name.endswith(("embed", "embed_avg", "cluster_size")):
            assert not torch.equal(buffer, initial[name]), name

    codec = trainer.codec.eval()
    with torch.no_grad():
        ours = trainer.quantizer.eval()(codec.encoder(batch[:, None])).codes.transpose(0, 1)
        codes = codec.encode(batch[:, None], bandwidth=trainer.config.bandwidth).audio_codes[0]
    torch.testing.assert_close(codes, ours, rtol=0, atol=0)  # the training quantizer agrees with transformers'

    codec.save_pretrained(tmp_path / "codec")
    loaded = EncodecModel.from_pretrained(tmp_path / "codec").eval()
    with torch.no_grad():
        reloaded = loaded.encode(batch[:, None], bandwidth=trainer.config.bandwidth).audio_codes[0]
        decoded = loaded.decode(reloaded[None], [None]).audio_values
        decoded_before = codec.decode(codes[None], [None]).audio_values
    torch.testing.assert_close(reloaded, codes, rtol=0, atol=0)
    torch.testing.assert_close(decoded, decoded_before)


def test_training_resumes_from_its_checkpoint_and_saves_a_loadable_codec(tmp_path):
    config = tiny_training_config(max_steps=4, checkpoint_every=2, log_every=1)
    assert train_codec(config, tmp_path, max_steps=2) is None
    assert (tmp_path / "checkpoint.safetensors").is_file()
    with pytest.raises(FileNotFoundError, match="resume"):
        train_codec(config, tmp_path / "empty", resume=True)
    final = train_codec(config, tmp_path, resume=True)
    assert final == tmp_path / "final"
    steps = [
        int(line.split('"step": ')[1].split(",")[0]) for line in (tmp_path / "log.jsonl").read_text().splitlines()
    ]
    assert steps == [1, 2, 3, 4]
    codec = EncodecModel.from_pretrained(final)
    audio = fixed_batch(config, size=1)[0].numpy()
    assert codec_round_trip(codec, audio).shape == audio.shape


def test_resumed_state_equals_the_saved_one(tmp_path):
    config = tiny_training_config(max_steps=2, checkpoint_every=2)
    train_codec(config, tmp_path, max_steps=2)
    trainer = CodecTrainer(config)
    trainer.load_state_dict(load_state(tmp_path / "checkpoint.safetensors"))
    assert trainer.step_count == 2
    parameters = len(trainer.optimizer.param_groups[0]["params"])
    assert trainer.optimizer.state_dict()["state"].keys() == set(range(parameters))
    draws = (np.random.random(), torch.rand(1).item())
    trainer.load_state_dict(load_state(tmp_path / "checkpoint.safetensors"))
    assert (np.random.random(), torch.rand(1).item()) == draws  # the random states come back exactly


class RunsOnUnpickle:
    """An object whose unpickling writes a file: what a crafted checkpoint does."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "ran"))


def test_a_crafted_pickle_checkpoint_is_never_loaded(tmp_path):
    marker = tmp_path / "pwned"
    torch.save({"step": RunsOnUnpickle(marker)}, tmp_path / "checkpoint.pt")
    with pytest.raises(FileNotFoundError, match="pickle"):
        train_codec(tiny_training_config(max_steps=2), tmp_path, resume=True)
    (tmp_path / "checkpoint.pt").rename(tmp_path / "checkpoint.safetensors")  # nor under the new name
    with pytest.raises(ValueError, match="not a readable training state"):
        train_codec(tiny_training_config(max_steps=2), tmp_path, resume=True)
    assert not marker.exists()


def test_cli_reports_a_missing_config(tmp_path, capsys):
    from mono2stereo.cli import main

    arguments = ["--config", str(tmp_path / "nope.yaml"), "--output-dir", str(tmp_path)]
    assert codec_main(arguments) == 1  # the older entry point, python -m mono2stereo.training.codec
    old = capsys.readouterr().err
    assert main(["train-codec", *arguments]) == 1
    new = capsys.readouterr().err
    assert "nope.yaml' does not exist" in old and old.count("\n") == 1
    assert new.replace("mono2stereo: ", "python -m mono2stereo.training.codec: ", 1) == old


def test_default_config_is_a_small_50hz_codec_with_four_codebooks():
    config = CodecTrainingConfig.from_yaml(REPO / "configs/codec/small-24k.yaml")
    codec = config.codec
    assert (codec.sampling_rate, codec.hop_length, codec.frame_rate) == (24000, 480, 50)
    assert (codec.codebook_size, codec.num_quantizers, codec.audio_channels) == (1024, 4, 1)
    model = EncodecModel(codec)
    size_bytes = 4 * sum(t.numel() for t in [*model.parameters(), *model.buffers()])
    assert size_bytes < 10e6


def test_config_errors_name_the_bad_value():
    with pytest.raises(ValueError, match="audio_channels"):
        CodecTrainingConfig.from_dict({"codec": tiny_codec_config(audio_channels=2).to_diff_dict()})
    with pytest.raises(ValueError, match="learning_rat"):
        CodecTrainingConfig.from_dict({"codec": {}, "training": {"learning_rat": 1.0}})


def test_general_midi_pieces_are_seeded():
    first, again, other = (midi_bytes(random_general_midi(seed, 6.0)) for seed in (3, 3, 4))
    assert first == again and first != other
    midi = random_general_midi(3, 6.0)
    assert 3.0 < midi.length < 12.0
    channels = {m.channel for track in midi.tracks for m in track if m.type == "note_on"}
    assert {0, 4} <= channels  # bass and lead are always there


@pytest.mark.skipif(not HAS_FLUIDSYNTH, reason="fluidsynth or the General-MIDI SoundFont is not installed")
def test_renders_are_stereo_audio_and_cached(tmp_path):
    paths = general_midi_renders(tmp_path, count=2, seconds=2.0, sampling_rate=8000, seed=1)
    import soundfile as sf

    audio, rate = sf.read(paths[0], dtype="float32")
    assert rate == 8000 and audio.ndim == 2 and audio.shape[1] == 2 and audio.shape[0] > 8000
    assert np.sqrt(np.mean(audio**2)) > 1e-3
    stamp = paths[0].stat().st_mtime_ns
    assert general_midi_renders(tmp_path, count=2, seconds=2.0, sampling_rate=8000, seed=1) == paths
    assert paths[0].stat().st_mtime_ns == stamp


def test_crops_are_seeded_mono_views_at_the_asked_level():
    config = tiny_training_config()
    render = np.random.default_rng(0).standard_normal((8000, 2)).astype(np.float32) * 0.1
    settings = config.data
    settings.synthetic_fraction = 0.5
    crops = [CodecCrops([render], settings, 8000, 800, seed=5) for _ in range(2)]
    first, second = (list(zip(range(6), iter(c))) for c in crops)
    for (_, a), (_, b) in zip(first, second):
        assert a.shape == (800,) and a.dtype == torch.float32
        torch.testing.assert_close(a, b)
        level_db = 20 * np.log10(float(a.pow(2).mean().sqrt()))
        assert (
            settings.level_db_range[0] - 0.01 <= level_db <= settings.level_db_range[1] + 0.01 or a.abs().max() > 0.98
        )


def test_mono_views_of_stereo():
    stereo = synthetic_stereo_clip(800, 8000, torch.Generator().manual_seed(0))
    assert stereo.shape == (2, 800)
    torch.testing.assert_close(mono_view(stereo, "mid") + mono_view(stereo, "side"), stereo[0])
    torch.testing.assert_close(mono_view(stereo, "mid") - mono_view(stereo, "side"), stereo[1])
    with pytest.raises(ValueError, match="view"):
        mono_view(stereo, "centre")


def test_log_mel_distance_is_zero_only_for_the_same_signal():
    audio = synthetic_stereo_clip(4000, 8000, torch.Generator().manual_seed(1))[0].numpy()
    assert log_mel_distance(audio, audio, 8000) == 0.0
    assert log_mel_distance(0.5 * audio, audio, 8000) > 0.5
