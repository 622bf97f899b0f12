"""The spatial codec: cue analysis, tokens, synthesis against the mono, and the spatial kind of the model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mono2stereo.inference.pipeline import Mono2StereoPipeline
from mono2stereo.modeling import Mono2StereoConfig, Mono2StereoModel
from mono2stereo.modeling.spatial_codec import SpatialCodec, SpatialCodecConfig, cues_to_gains
from mono2stereo.modeling.tiny import tiny_model, tiny_spatial_codec_config

RATE = 16000


def noise(seconds: float, rate: int = RATE, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(int(seconds * rate)) * 0.1).astype(np.float32)


@pytest.fixture(scope="module")
def codec() -> SpatialCodec:
    return SpatialCodec(SpatialCodecConfig(sampling_rate=RATE, hop_length=400, frame_length=1024, highest_hz=7900.0))


def analyze(codec: SpatialCodec, stereo: np.ndarray) -> torch.Tensor:
    return codec.analyze(torch.from_numpy(np.ascontiguousarray(stereo.T))[None])[0]


def test_a_panned_source_has_its_level_difference_and_full_coherence(codec):
    source = noise(2.0)
    gain = 10 ** (6.0 / 20)  # left 6 dB above right
    cues = analyze(codec, np.stack([source * gain, source], axis=1))
    assert cues.shape == (codec.num_frames(len(source)), codec.config.num_bands, 2)
    assert torch.allclose(cues[..., 0], torch.tensor(6.0), atol=1e-3)
    assert torch.allclose(cues[..., 1], torch.tensor(1.0), atol=1e-3)


def test_independent_channels_have_low_coherence(codec):
    cues = analyze(codec, np.stack([noise(2.0, seed=1), noise(2.0, seed=2)], axis=1))
    assert float(cues[..., 1].mean()) < 0.35
    assert abs(float(cues[..., 0].mean())) < 1.0


def test_tokens_round_trip_to_the_nearest_grid_points_and_a_swap_negates_the_level_difference(codec):
    cues = torch.stack([torch.linspace(-50, 50, 101), torch.linspace(0, 1, 101)], dim=-1)[None, :, None].expand(
        1, 101, codec.config.num_bands, 2
    )
    tokens = codec.tokenize(cues)
    assert tokens.shape == (1, 2 * codec.config.num_bands, 101)
    assert int(tokens.min()) >= 0 and int(tokens.max()) < codec.config.codebook_size
    decoded = codec.detokenize(tokens)
    grid = torch.tensor(codec.config.ild_grid_db)
    nearest = grid[(cues[..., 0, None] - grid).abs().argmin(-1)]
    assert torch.equal(decoded[..., 0], nearest.float())
    swapped = codec.detokenize(codec.swap_channels(tokens))
    assert torch.equal(swapped[..., 0], -decoded[..., 0])
    assert torch.equal(swapped[..., 1], decoded[..., 1])


@pytest.mark.parametrize("rate", [8000, 22050, 44100])
def test_synthesis_keeps_the_input_as_the_mid_at_any_rate(codec, rate):
    mono = noise(1.5, rate)
    frames = codec.num_frames(int(1.5 * RATE))
    rng = np.random.default_rng(0)
    cues = np.stack(
        [rng.uniform(-20, 20, (frames, codec.config.num_bands)), rng.uniform(0, 1, (frames, codec.config.num_bands))],
        axis=-1,
    )
    stereo = codec.synthesize(mono, cues, rate)
    assert stereo.shape == (len(mono), 2) and stereo.dtype == np.float32
    assert np.max(np.abs(stereo.mean(axis=1) - mono)) < 1e-6
    assert np.array_equal(codec.synthesize(mono, cues, rate, width=0.0), np.stack([mono, mono], axis=1))


@pytest.mark.parametrize(("level_db", "coherence"), [(6.0, 1.0), (-9.0, 1.0), (0.0, 0.5), (4.0, 0.7)])
def test_synthesised_stereo_carries_the_cues_it_was_given(codec, level_db, coherence):
    mono = noise(3.0)
    frames = codec.num_frames(len(mono))
    cues = np.zeros((frames, codec.config.num_bands, 2))
    cues[..., 0], cues[..., 1] = level_db, coherence
    measured = analyze(codec, codec.synthesize(mono, cues, RATE))[10:-10, 2:]  # away from the edges and lowest bands
    assert float(measured[..., 0].median()) == pytest.approx(level_db, abs=1.0)
    assert float(measured[..., 1].median()) == pytest.approx(coherence, abs=0.12)


def test_gains_of_the_cue_extremes():
    alpha, beta = cues_to_gains(torch.tensor([[0.0, 1.0], [0.0, 0.0], [40.0, 1.0]]))
    assert torch.allclose(alpha, torch.tensor([0.0, 0.0, 1.0]), atol=0.03)  # centre, diffuse, (nearly) hard left
    assert torch.allclose(beta, torch.tensor([0.0, 1.0, 0.0]), atol=1e-3)


def test_a_bad_spatial_codec_setting_names_its_field():
    with pytest.raises(ValueError, match="frame_length"):
        SpatialCodecConfig(frame_length=1000)
    with pytest.raises(ValueError, match="smoothing_frames"):
        SpatialCodecConfig(smoothing_frames=4)
    with pytest.raises(ValueError, match="coherence_levels"):
        SpatialCodecConfig(coherence_levels=[0.0, 1.5])


def test_the_spatial_kind_trains_generates_and_round_trips_through_save_pretrained(tmp_path):
    model = tiny_model(spatial=True)
    config = model.config
    assert config.is_spatial and config.channel_layout == "spatial"
    assert config.num_stereo_codebooks == 2 * config.codec.num_bands
    stereo = torch.from_numpy(np.stack([noise(1.0, 8000, 1), noise(1.0, 8000, 2)]))[None]
    mono_features = model.encode_mono(stereo.mean(1))
    tokens = model.encode_stereo(stereo)
    assert mono_features.shape == (1, config.num_mono_channels, tokens.shape[-1])
    model.train()
    loss = model(mono_codes=mono_features, stereo_codes=tokens).loss
    loss.backward()
    assert torch.isfinite(loss) and model.mono_features.weight.grad.abs().sum() > 0
    model.eval()
    generated = model.generate(mono_features, seed=3)
    assert generated.shape == tokens.shape
    model.save_pretrained(tmp_path)
    loaded = Mono2StereoModel.from_pretrained(tmp_path)
    assert loaded.config.is_spatial
    assert torch.equal(loaded.generate(mono_features, seed=3), generated)
    # the loaded codec's tables are made anew from the config, not left as from_pretrained's empty memory
    assert torch.equal(loaded.encode_mono(stereo.mean(1)), mono_features)
    assert torch.equal(loaded.encode_stereo(stereo), tokens)
    with pytest.raises(ValueError, match="synthesize"):
        model.decode_stereo(generated)


def test_the_pipeline_upmixes_with_a_spatial_model_keeping_the_mid():
    pipeline = Mono2StereoPipeline(tiny_model(spatial=True))
    mono = noise(2.5, 22050)
    output = pipeline(mono, 22050, seed=0, num_variants=2, window_seconds=0.5)
    assert output.audio.shape == (2, len(mono), 2)
    assert np.max(np.abs(output.audio.mean(axis=-1) - mono[None])) < 1e-6
    assert not np.array_equal(output.audio[0], output.audio[1])
    again = pipeline(mono, 22050, seed=0, num_variants=2, window_seconds=0.5)
    assert np.array_equal(again.audio, output.audio)


def test_a_spatial_config_loads_from_its_json_form():
    config = Mono2StereoConfig(codec=tiny_spatial_codec_config().to_dict(), hidden_size=16, num_attention_heads=2)
    assert isinstance(config.codec, SpatialCodecConfig)
    reloaded = Mono2StereoConfig.from_dict(config.to_dict())
    assert reloaded.is_spatial and reloaded.codec.num_bands == config.codec.num_bands


def test_block_synthesis_equals_synthesis_in_one_piece(codec, monkeypatch):
    import mono2stereo.modeling.spatial_codec as spatial_codec

    rate = 22050
    mono = noise(5.0, rate)
    frames = codec.num_frames(5 * RATE)
    rng = np.random.default_rng(1)
    cues = np.stack([rng.uniform(-20, 20, (frames, 32)), rng.uniform(0, 1, (frames, 32))], axis=-1)
    whole = codec.synthesize(mono, cues, rate)
    monkeypatch.setattr(spatial_codec, "SYNTHESIS_BLOCK_SECONDS", 1.3)
    blocks = codec.synthesize(mono, cues, rate)
    assert np.max(np.abs(blocks - whole)) < 1e-3 * np.max(np.abs(whole))
