"""The spatial codec's rvq tokenizer: shapes, the exact left/right swap on codes, tables saved with the model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mono2stereo.inference.pipeline import Mono2StereoPipeline
from mono2stereo.modeling import Mono2StereoConfig, Mono2StereoModel
from mono2stereo.modeling.spatial_codec import SpatialCodec, SpatialCodecConfig
from mono2stereo.modeling.tiny import randomize_rvq_tables, tiny_model, tiny_rvq_codec_config
from mono2stereo.training.spatial_rvq_fit import fit_quantizer


def random_cues(frames: int, bands: int, seed: int = 0) -> torch.Tensor:
    """Cues `(1, frames, bands, 2)`: level differences around a few pans, coherences in [0, 1], some silence."""
    generator = torch.Generator().manual_seed(seed)
    pan = torch.randn(frames, 1, generator=generator) * 8
    level = (pan + torch.randn(frames, bands, generator=generator) * 3).clamp(-40, 40)
    coherence = torch.rand(frames, bands, generator=generator) ** 0.3
    cues = torch.stack([level, coherence], dim=-1)
    cues[: frames // 10] = torch.tensor([0.0, 1.0])  # silent frames: centred and coherent, their own mirror
    return cues[None]


def mirror(cues: torch.Tensor) -> torch.Tensor:
    """The cues of the stereo with left and right exchanged."""
    return torch.stack([-cues[..., 0], cues[..., 1]], dim=-1)


@pytest.fixture(scope="module")
def fitted() -> tuple[SpatialCodec, torch.Tensor]:
    config = tiny_rvq_codec_config(rvq_codebooks=4, rvq_size=32)
    codec = SpatialCodec(config)
    cues = random_cues(3000, config.num_bands)
    quantizer = fit_quantizer(config, codec.rvq.vectors(cues[0]), iterations=8)
    codec.rvq.set_tables(quantizer.tables, quantizer.mirror)
    return codec, cues


def test_an_rvq_codec_sizes_the_transformer_by_its_stages():
    codec_config = tiny_rvq_codec_config(rvq_codebooks=5, rvq_size=64)
    config = Mono2StereoConfig(codec=codec_config.to_dict(), hidden_size=16, num_attention_heads=2)
    assert (config.num_stereo_codebooks, config.codebook_size, config.num_codebooks) == (5, 64, 5)
    assert config.delays == [0, 1, 2, 3, 4]
    assert Mono2StereoConfig.from_dict(config.to_dict()).codec.tokenizer == "rvq"
    assert SpatialCodecConfig().tokenizer == "scalar" and SpatialCodecConfig().num_codebooks == 64


@pytest.mark.parametrize(
    ("field", "value"), [("tokenizer", "vq"), ("rvq_codebooks", 0), ("rvq_size", 2), ("rvq_ild_scale_db", -1.0)]
)
def test_a_bad_rvq_setting_names_its_field(field, value):
    with pytest.raises(ValueError, match=field):
        tiny_rvq_codec_config(**{field: value})


def test_rvq_tokens_round_trip_and_each_stage_lowers_the_error(fitted):
    codec, cues = fitted
    tokens = codec.tokenize(cues)
    assert tokens.shape == (1, 4, cues.shape[1]) and tokens.dtype == torch.long
    assert int(tokens.min()) >= 0 and int(tokens.max()) < codec.config.codebook_size
    decoded = codec.detokenize(tokens)
    assert decoded.shape == cues.shape
    assert (decoded[..., 1] >= 0).all() and (decoded[..., 1] <= 1).all()
    vectors = codec.rvq.vectors(cues[0])
    errors = [(vectors - partial_decode(codec, tokens[0], k)).square().mean() for k in range(1, 5)]
    assert all(later < earlier for earlier, later in zip(errors, errors[1:]))


def partial_decode(codec: SpatialCodec, tokens: torch.Tensor, stages: int) -> torch.Tensor:
    """The vectors `(frames, 2B)` of the first `stages` stages of `tokens (K, frames)`."""
    tables = codec.rvq.tables
    return sum(tables[k][tokens[k]] for k in range(stages))


def test_a_left_right_swap_acts_on_rvq_tokens_exactly(fitted):
    codec, cues = fitted
    tokens = codec.tokenize(cues)
    assert torch.equal(codec.tokenize(mirror(cues)), codec.swap_channels(tokens))
    assert torch.equal(codec.swap_channels(codec.swap_channels(tokens)), tokens)
    assert torch.equal(codec.detokenize(codec.swap_channels(tokens)), mirror(codec.detokenize(tokens)))
    silent = tokens[..., : cues.shape[1] // 10]  # a frame that is its own mirror keeps its tokens
    assert torch.equal(codec.swap_channels(silent), silent)
    special = torch.full_like(tokens[..., :3], codec.config.codebook_size)
    assert torch.equal(codec.swap_channels(special), special)


def test_the_tables_are_mirror_closed_and_unfitted_or_broken_tables_are_refused(fitted):
    codec, _ = fitted
    rvq, bands = codec.rvq, codec.config.num_bands
    for stage in range(len(rvq.tables)):
        table, mirror_index = rvq.tables[stage], rvq.mirror[stage]
        assert torch.equal(table[mirror_index], torch.cat([-table[:, :bands], table[:, bands:]], 1))
    with pytest.raises(ValueError, match="not fitted"):
        SpatialCodec(codec.config).tokenize(torch.zeros(1, 2, bands, 2))
    broken = rvq.tables.clone()
    broken[0, -1, 0] += 1.0
    with pytest.raises(ValueError, match="mirror-closed"):
        SpatialCodec(codec.config).rvq.set_tables(broken, rvq.mirror)


def test_mean_decoding_is_refused_for_rvq_tokens_with_a_clear_error():
    model = tiny_model(spatial=True, codec=tiny_rvq_codec_config().to_dict())
    with pytest.raises(ValueError, match="rvq"):
        model.codec.token_values()
    with pytest.raises(ValueError, match="decoding='mean'.*rvq"):
        Mono2StereoPipeline(model)(np.zeros(4000, np.float32) + 0.1, 8000, decoding="mean")


def test_a_tiny_rvq_model_trains_generates_and_keeps_its_tables_through_save_pretrained(tmp_path):
    model = tiny_model(spatial=True, codec=tiny_rvq_codec_config().to_dict())
    config = model.config
    rng = np.random.default_rng(0)
    stereo = torch.from_numpy((rng.standard_normal((1, 2, 8000)) * 0.1).astype(np.float32))
    stereo[:, 0] += 0.5 * stereo[:, 1]  # correlated channels, the left louder
    features, tokens = model.encode_mono(stereo.mean(1)), model.encode_stereo(stereo)
    assert tokens.shape == (1, config.codec.rvq_codebooks, features.shape[-1])
    model.train()
    loss = model(mono_codes=features, stereo_codes=tokens).loss
    loss.backward()
    assert torch.isfinite(loss) and model.heads[0].weight.grad.abs().sum() > 0
    model.eval()
    generated = model.generate(features, seed=1)
    assert generated.shape == tokens.shape and int(generated.max()) < config.codebook_size
    model.save_pretrained(tmp_path)
    loaded = Mono2StereoModel.from_pretrained(tmp_path)
    assert torch.equal(loaded.codec.rvq.tables, model.codec.rvq.tables)
    assert torch.equal(loaded.codec.rvq.mirror, model.codec.rvq.mirror)
    assert torch.equal(loaded.encode_stereo(stereo), tokens)
    assert torch.equal(loaded.generate(features, seed=1), generated)
    output = Mono2StereoPipeline(loaded)(stereo.mean(1)[0].numpy(), 8000, seed=0, window_seconds=0.5)
    assert np.max(np.abs(output.audio.mean(axis=-1) - stereo.mean(1)[0].numpy())) < 1e-6


def test_a_scalar_spatial_model_saves_no_codec_tensors():
    state = tiny_model(spatial=True).state_dict()
    assert not [name for name in state if name.startswith("codec.")]
    rvq_state = tiny_model(spatial=True, codec=tiny_rvq_codec_config().to_dict()).state_dict()
    assert {"codec.rvq.tables", "codec.rvq.mirror"} <= set(rvq_state)


def test_random_tables_of_the_tiny_model_are_mirror_closed():
    codec = SpatialCodec(tiny_rvq_codec_config())
    randomize_rvq_tables(codec.rvq, torch.Generator().manual_seed(0))
    cues = random_cues(200, codec.config.num_bands, seed=1)
    assert torch.equal(codec.tokenize(mirror(cues)), codec.swap_channels(codec.tokenize(cues)))
