import pytest
import torch
import torch.nn.functional as F

from mono2stereo.modeling import Mono2StereoConfig, Mono2StereoModel, tiny_model
from mono2stereo.modeling.delay_pattern import apply_delay_pattern, delayed_length, valid_delay_mask

QUIET = dict(dropout=0.0, condition_dropout=0.0)


def head_model(**overrides):
    settings = dict(width_head_weight=1.0, context_dropout=1.0, **QUIET) | overrides
    return tiny_model(spatial=True, **settings)


def features_and_tokens(model, batch=4, frames=12, seed=0):
    generator = torch.Generator().manual_seed(seed)
    features = torch.randn(batch, model.config.num_mono_channels, frames, generator=generator)
    tokens = torch.randint(0, model.config.codebook_size, (batch, model.config.num_stereo_codebooks, frames))
    return features, tokens


def test_the_head_learns_a_width_that_the_mono_tells():
    model = head_model().train()
    features, tokens = features_and_tokens(model, batch=8)
    # wide where the first feature row is high on average, narrow where it is low: the mono tells the width
    width = torch.where(features[:, 0].mean(-1) > 0, -4.0, -24.0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    errors = []
    for _ in range(80):
        output = model(features, tokens, width_db=width)
        errors.append(output.width_error_db.item())
        optimizer.zero_grad()
        output.loss.backward()
        optimizer.step()
    assert errors[0] > 5.0 and errors[-1] < 0.25 * errors[0]
    model.eval()
    predicted = model.decoder_context(features, torch.full((8,), 4), width).predicted_width_db
    assert torch.allclose(predicted, width, atol=2.0)


def test_the_loss_adds_the_weighted_huber_of_the_width_and_nothing_when_the_width_is_unknown():
    model = head_model(width_head_weight=0.5).eval()
    features, tokens = features_and_tokens(model)
    width = torch.tensor([-3.0, -9.0, -50.0, 0.0])  # -50 is outside the range: the target is clamped to -40
    output = model(features, tokens, width_db=width)
    length = delayed_length(tokens.shape[-1], model.delays)
    targets = apply_delay_pattern(tokens, model.delays, model.config.special_token_id)
    valid = valid_delay_mask(model.delays, torch.full((4,), tokens.shape[-1]), length)
    targets = targets.masked_fill(~valid, -100).flatten()
    cross_entropy = F.cross_entropy(output.logits.flatten(0, 2), targets)
    predicted = model.decoder_context(features, torch.full((4,), 4), width).predicted_width_db
    target = torch.tensor([-3.0, -9.0, -40.0, 0.0])
    huber = F.smooth_l1_loss(predicted / 10, target / 10)
    assert torch.allclose(output.loss, cross_entropy + 0.5 * huber, atol=1e-5)
    assert torch.allclose(output.width_error_db, (predicted - target).abs().mean(), atol=1e-5)
    unknown = model(features, tokens)  # no width given: no width loss
    assert torch.isnan(unknown.width_error_db)
    assert torch.allclose(unknown.loss, F.cross_entropy(unknown.logits.flatten(0, 2), targets), atol=1e-5)


def test_with_a_head_the_encoder_does_not_read_the_width_but_the_decoder_does():
    model = head_model().eval()
    features, _ = features_and_tokens(model)
    style = torch.full((4,), 4)
    narrow = model.decoder_context(features, style, torch.full((4,), -30.0))
    wide = model.decoder_context(features, style, torch.full((4,), 0.0))
    assert torch.equal(narrow.mono_states, wide.mono_states)
    assert torch.equal(narrow.predicted_width_db, wide.predicted_width_db)
    assert not torch.equal(narrow.condition, wide.condition)
    low, high = model.config.width_db_range
    assert bool(((narrow.predicted_width_db >= low) & (narrow.predicted_width_db <= high)).all())


def test_generation_asked_for_no_width_asks_for_the_heads_width():
    model = head_model().eval()
    with torch.no_grad():  # a width that moves the tokens, which a random tiny model's barely does
        model.width_projection[-1].weight.mul_(100.0)
    features, _ = features_and_tokens(model)
    predicted = model.decoder_context(features, torch.full((4,), 4), torch.zeros(4)).predicted_width_db
    free = model.generate(features, seed=3)
    assert torch.equal(free, model.generate(features, width_db=predicted, seed=3))
    assert not torch.equal(free, model.generate(features, width_db=torch.full((4,), -40.0), seed=3))
    assert not torch.equal(free, model.generate(features, width_db=torch.full((4,), float("nan")), seed=3))
    # with guidance the unconditional half stays unconditional: the same as asking for the prediction
    guided = model.generate(features, seed=3, guidance_scale=2.0)
    assert torch.equal(guided, model.generate(features, width_db=predicted, seed=3, guidance_scale=2.0))


def test_a_model_without_a_head_predicts_nothing_and_refuses_to_be_asked():
    model = tiny_model(spatial=True, **QUIET).eval()
    assert not model.config.has_width_head and not hasattr(model, "width_head")
    features, tokens = features_and_tokens(model)
    context = model.decoder_context(features, torch.full((4,), 4), torch.zeros(4))
    assert context.predicted_width_db is None
    assert model(features, tokens, width_db=torch.zeros(4)).width_error_db is None
    with pytest.raises(ValueError, match="no width head"):
        model.decoder_context(features, torch.full((4,), 4), torch.zeros(4), predict_width=torch.ones(4, dtype=bool))


def test_the_head_is_saved_and_loaded(tmp_path):
    model = head_model().eval()
    model.save_pretrained(tmp_path)
    loaded = Mono2StereoModel.from_pretrained(tmp_path).eval()
    assert loaded.config.width_head_weight == 1.0
    features, _ = features_and_tokens(model)
    style, width = torch.full((4,), 4), torch.zeros(4)
    assert torch.equal(
        model.decoder_context(features, style, width).predicted_width_db,
        loaded.decoder_context(features, style, width).predicted_width_db,
    )


def test_a_negative_head_weight_is_refused():
    with pytest.raises(ValueError, match="width_head_weight"):
        Mono2StereoConfig(width_head_weight=-1.0)
