import math

import numpy as np
import pytest
import torch

from mono2stereo.modeling import tiny_model
from mono2stereo.modeling.generation import decoded_tokens, sample_tokens
from mono2stereo.modeling.generation_settings import GenerationSettings
from mono2stereo.modeling.quantile_field import quantile_field, window_quantiles


def gaussian(quantiles: torch.Tensor) -> np.ndarray:
    """The field's normal scores, `Phi^-1(u)`."""
    return (math.sqrt(2.0) * torch.special.erfinv(2 * quantiles.double() - 1)).numpy()


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def test_the_field_is_uniform_and_drifts_over_its_time_constant():
    groups = torch.tensor([0, 1, 0, 1, 0, 1])
    rate, seconds = 40.0, 0.5  # 20 frames
    field = quantile_field(groups, 40000, rate, seconds, 0.5, torch.Generator().manual_seed(0))
    assert field.shape == (6, 40000) and 0 < field.min() and field.max() < 1
    histogram = np.histogram(field.numpy().ravel(), bins=10, range=(0, 1))[0] / field.numel()
    assert np.allclose(histogram, 0.1, atol=0.01)  # every frame's quantile is uniform
    z = gaussian(field)
    lag = 20
    assert correlation(z[0, :-lag], z[0, lag:]) == pytest.approx(math.exp(-1), abs=0.05)  # 1/e after `seconds`
    assert correlation(z[0, :-1], z[0, 1:]) == pytest.approx(math.exp(-1 / 20), abs=0.02)
    assert correlation(z[0], z[2]) == pytest.approx(0.5, abs=0.06)  # one cue's bands share half the field
    assert abs(correlation(z[0], z[1])) < 0.06  # level differences and coherences move apart


def test_without_time_or_band_correlation_the_quantiles_are_independent():
    field = quantile_field(torch.zeros(4, dtype=torch.long), 20000, 40.0, 0.0, 0.0, torch.Generator().manual_seed(1))
    z = gaussian(field)
    assert abs(correlation(z[0, :-1], z[0, 1:])) < 0.03
    assert abs(correlation(z[0], z[1])) < 0.03


def test_a_seed_gives_the_same_field_and_windows_read_the_song_field_where_they_lie():
    groups = torch.arange(4) % 2
    first = quantile_field(groups, 100, 40.0, 0.5, 0.5, torch.Generator().manual_seed(3))
    again = quantile_field(groups, 100, 40.0, 0.5, 0.5, torch.Generator().manual_seed(3))
    other = quantile_field(groups, 100, 40.0, 0.5, 0.5, torch.Generator().manual_seed(4))
    assert torch.equal(first, again) and not torch.equal(first, other)
    windows = window_quantiles(first, [0, 30, 90], 40)
    assert windows.shape == (3, 4, 40)
    assert torch.equal(windows[1, :, :10], windows[0, :, 30:40])  # overlapping windows: the same quantiles
    assert torch.equal(windows[2, :, :10], first[:, 90:]) and torch.all(windows[2, :, 10:] == 0.5)  # past the end


@pytest.mark.parametrize("seconds, correlation_", [(-1.0, 0.5), (0.5, 1.5)])
def test_bad_field_settings_are_refused(seconds, correlation_):
    with pytest.raises(ValueError, match="quantile field"):
        quantile_field(torch.zeros(2, dtype=torch.long), 10, 40.0, seconds, correlation_)
    with pytest.raises(ValueError, match="quantile_"):
        GenerationSettings(decoding="quantile", quantile_seconds=seconds, quantile_band_correlation=correlation_)


def test_a_token_drawn_at_a_quantile_is_the_inverse_cdf():
    probabilities = torch.tensor([0.1, 0.6, 0.3])
    logits = probabilities.log().expand(5, 3)
    quantiles = torch.tensor([0.05, 0.15, 0.5, 0.69, 0.95])
    assert sample_tokens(logits, 1.0, 0, 0.0, None, quantiles).tolist() == [0, 1, 1, 1, 2]
    # the middle quantile is the median token
    median = decoded_tokens(probabilities[None, None], torch.tensor([[0.0, 1.0, 2.0]]), "median")
    assert median.item() == sample_tokens(logits[:1], 1.0, 0, 0.0, None, torch.tensor([0.5])).item()


def test_a_context_free_model_predicts_a_window_in_one_pass_from_the_mono_alone():
    model = tiny_model(spatial=True, seed=2, context_dropout=1.0, initializer_range=0.3).eval()
    assert model.config.context_free
    features = torch.randn(2, model.config.num_mono_channels, 16, generator=torch.Generator().manual_seed(0))
    codes = torch.randint(0, model.config.codebook_size, (2, model.config.num_stereo_codebooks, 16))
    # the teacher-forced logits cannot depend on the tokens given, in evaluation as in training
    logits = model(features, codes).logits
    assert torch.equal(logits, model(features, torch.zeros_like(codes)).logits)
    values = model.codec.token_values()
    from mono2stereo.modeling.delay_pattern import revert_delay_pattern

    decoded = decoded_tokens(logits.softmax(-1).transpose(1, 2), values, "mean").transpose(1, 2)
    expected = revert_delay_pattern(decoded, model.delays)
    assert torch.equal(model.generate(features, token_values=values), expected)
    # sampled at quantiles: the inverse CDF of the same distributions, position by position
    quantiles = torch.rand(2, model.config.num_stereo_codebooks, 16, generator=torch.Generator().manual_seed(1))
    from mono2stereo.modeling.generation import delayed_quantiles

    delayed = delayed_quantiles(model, quantiles, features).transpose(1, 2)
    drawn = sample_tokens(logits.transpose(1, 2), 1.0, 0, 0.0, None, delayed).transpose(1, 2)
    generated = model.generate(features, quantiles=quantiles, top_k=0)
    assert torch.equal(generated, revert_delay_pattern(drawn, model.delays))
    # a prefix is kept
    prefix = codes[..., :4]
    assert torch.equal(model.generate(features, prefix_codes=prefix, token_values=values)[..., :4], prefix)


def test_a_model_with_context_reads_the_quantiles_position_by_position():
    model = tiny_model(spatial=True, seed=2, initializer_range=0.3).eval()
    features = torch.randn(1, model.config.num_mono_channels, 12, generator=torch.Generator().manual_seed(0))
    shape = (1, model.config.num_stereo_codebooks, 12)
    low = model.generate(features, quantiles=torch.full(shape, 1e-6), top_k=0)
    high = model.generate(features, quantiles=torch.full(shape, 1 - 1e-6), top_k=0)
    assert (high >= low).float().mean() > 0.9 and not torch.equal(low, high)
    with pytest.raises(ValueError, match="quantiles"):
        model.generate(features, quantiles=torch.rand(1, 3, 12))


def test_quantile_decoding_through_the_pipeline_is_seeded_and_smoother_than_sampling():
    from mono2stereo.inference.pipeline import Mono2StereoPipeline

    model = tiny_model(spatial=True, seed=2, context_dropout=1.0, initializer_range=0.3).eval()
    rate = model.config.sampling_rate
    mono = np.random.default_rng(0).standard_normal(rate * 4).astype(np.float32) * 0.1
    pipeline = Mono2StereoPipeline(model)
    first = pipeline(mono, rate, seed=1, decoding="quantile").audio
    assert np.array_equal(first, pipeline(mono, rate, seed=1, decoding="quantile").audio)
    assert not np.array_equal(first, pipeline(mono, rate, seed=2, decoding="quantile").audio)
    assert np.allclose(first.mean(1), mono, atol=1e-5)  # the input stays the mid

    def cue_jumps(decoding: str, **settings) -> float:
        model.generation_settings = GenerationSettings(decoding=decoding, **settings)
        cues = pipeline._cue_array(len(mono))
        window, overlap = pipeline.window_frames(None, None)
        sampling = {"generator": torch.Generator().manual_seed(0)}
        if decoding == "quantile":
            sampling["quantile_field"] = (settings["quantile_seconds"], 0.5)
        pipeline.generate_cues_into(torch.from_numpy(mono).numpy(), [cues], window, overlap, **sampling)
        return float(np.abs(np.diff(cues[..., 0], axis=0)).mean())

    smooth = cue_jumps("quantile", quantile_seconds=1.0)
    assert smooth < 0.5 * cue_jumps("sample")  # level differences jump far less from frame to frame
    model.generation_settings = GenerationSettings()
