import pytest
import torch

from mono2stereo.modeling import tiny_model
from mono2stereo.modeling.generation import filter_logits


@pytest.fixture(scope="module")
def model():
    # A larger initialisation than training uses, so that a random model has opinions and the
    # conditioning visibly changes what it samples.
    return tiny_model(seed=1, initializer_range=0.5)


@pytest.fixture(scope="module")
def mono(model):
    generator = torch.Generator().manual_seed(0)
    return torch.randint(0, model.config.codebook_size, (3, model.config.num_codebooks, 20), generator=generator)


def test_greedy_generation_is_the_same_with_and_without_kv_cache(model, mono):
    cached = model.generate(mono, temperature=0, style="modern", width_db=-6.0)
    uncached = model.generate(mono, temperature=0, style="modern", width_db=-6.0, use_cache=False)
    assert cached.shape == (3, model.config.num_stereo_codebooks, 20)
    assert torch.equal(cached, uncached)


def test_sampling_is_reproducible_by_seed_and_generator(model, mono):
    first = model.generate(mono, seed=7)
    assert torch.equal(first, model.generate(mono, seed=7))
    assert torch.equal(first, model.generate(mono, generator=torch.Generator().manual_seed(7)))
    assert not torch.equal(first, model.generate(mono, seed=8))
    assert int(first.max()) < model.config.codebook_size and int(first.min()) >= 0


def test_guidance_changes_the_output_and_keeps_shapes(model, mono):
    plain = model.generate(mono, seed=3, style="vintage")
    guided = model.generate(mono, seed=3, style="vintage", guidance_scale=3.0)
    assert guided.shape == plain.shape
    assert not torch.equal(guided, plain)


def test_prefix_is_kept_and_changes_what_follows(model, mono):
    prefix = torch.randint(0, model.config.codebook_size, (3, model.config.num_stereo_codebooks, 6))
    free = model.generate(mono, temperature=0)
    continued = model.generate(mono, temperature=0, prefix_codes=prefix)
    assert continued.shape == free.shape
    assert torch.equal(continued[..., :6], prefix)
    assert not torch.equal(continued[..., 6:], free[..., 6:])
    assert torch.equal(continued, model.generate(mono, temperature=0, prefix_codes=prefix, use_cache=False))


def test_windows_in_a_batch_are_generated_independently(model, mono):
    together = model.generate(mono, temperature=0, style=["modern", "wide", "narrow"])
    alone = model.generate(mono[1:2], temperature=0, style="wide")
    assert torch.equal(together[1:2], alone)


def test_filter_logits_top_k_and_top_p():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    assert torch.isinf(filter_logits(logits, top_k=2)).tolist() == [[False, False, True, True]]
    assert torch.isinf(filter_logits(logits, top_p=0.7)).tolist() == [[False, False, True, True]]
    assert torch.isinf(filter_logits(logits, top_p=0.5)).tolist() == [[False, True, True, True]]


def test_bad_generation_arguments_are_refused(model, mono):
    with pytest.raises(ValueError, match="mono_codes"):
        model.generate(mono[:, :1])
    with pytest.raises(ValueError, match="unknown style 'baroque'"):
        model.generate(mono, style="baroque")
    with pytest.raises(ValueError, match="prefix_codes"):
        model.generate(mono, prefix_codes=torch.zeros(3, 2, 4, dtype=torch.long))


def test_sampling_follows_the_distribution():
    from mono2stereo.modeling.generation import sample_tokens

    probabilities = torch.tensor([0.1, 0.6, 0.3])
    logits = probabilities.log().expand(20000, 3)
    tokens = sample_tokens(logits, 1.0, 0, 0.0, torch.Generator().manual_seed(0))
    counts = torch.bincount(tokens, minlength=3).float() / tokens.numel()
    assert torch.allclose(counts, probabilities, atol=0.015)


def test_mean_magnitude_decoding_keeps_the_size_of_a_level_difference_whose_side_is_uncertain():
    from mono2stereo.modeling.generation import expected_values

    values = torch.tensor([[-6.0, 0.0, 6.0], [0.2, 0.6, 1.0]])  # a level difference's codebook, a coherence's
    probabilities = torch.tensor([[[0.45, 0.1, 0.45], [0.0, 0.5, 0.5]], [[0.1, 0.0, 0.9], [0.5, 0.5, 0.0]]])
    mean = expected_values(probabilities, values, magnitudes=False)[..., 0]
    sized = expected_values(probabilities, values, magnitudes=True)[..., 0]
    assert mean[0, 0] == pytest.approx(0.0, abs=1e-6)  # either side equally likely: the mean is the centre
    assert sized[0, 0] == pytest.approx(5.4)  # expected size 0.9 * 6, on the (tied) positive side
    assert sized[1, 0] == pytest.approx(6.0)  # one side likelier: its sign, the expected size (|-6| and |6|)
    assert sized[1, 0] > 0 and torch.equal(sized[:, 1], mean[:, 1])  # coherences are mean-decoded either way
    flipped = expected_values(probabilities.flip(-1), values, magnitudes=True)[..., 0]
    assert flipped[1, 0] == pytest.approx(-sized[1, 0].item())  # mirror the distribution, mirror the decoding


def test_median_decoding_takes_the_token_where_half_the_probability_is_reached():
    from mono2stereo.modeling.generation import decoded_tokens

    values = torch.tensor([[0.0, 0.5, 0.9, 1.0]])  # a coherence grid: most weight near 1, a long tail below
    probabilities = torch.tensor([[[0.3, 0.1, 0.2, 0.4]]])
    assert decoded_tokens(probabilities, values, "median").tolist() == [[2]]  # 0.3, 0.4, 0.6: token 2 reaches 1/2
    # the mean, 0.63, is nearest 0.5: a value the model gives only a tenth of its weight
    assert decoded_tokens(probabilities, values, "mean").tolist() == [[1]]
    with pytest.raises(ValueError, match="statistic"):
        decoded_tokens(probabilities, values, "mode")
