import math

import torch

from mono2stereo.modeling import stereo_width_db, tiny_model


def random_batch(model, batch=2, frames=12, seed=0):
    generator = torch.Generator().manual_seed(seed)
    config = model.config
    mono = torch.randint(0, config.codebook_size, (batch, config.num_codebooks, frames), generator=generator)
    stereo = torch.randint(0, config.codebook_size, (batch, config.num_stereo_codebooks, frames), generator=generator)
    return mono, stereo


def test_forward_shapes_and_accuracy_per_codebook():
    model = tiny_model()
    mono, stereo = random_batch(model)
    out = model(mono, stereo)
    config = model.config
    assert out.logits.shape == (2, config.num_stereo_codebooks, 12 + config.num_codebooks - 1, config.codebook_size)
    assert out.accuracy.shape == (config.num_stereo_codebooks,)
    assert out.loss.ndim == 0 and torch.isfinite(out.loss)


def test_padding_frames_carry_no_loss():
    model = tiny_model()
    mono, stereo = random_batch(model, batch=1, frames=12)
    real = 8
    mask = torch.zeros(1, 12, dtype=torch.bool)
    mask[:, :real] = True
    padded_loss = model(mono, stereo, frames_mask=mask).loss
    # Whatever the padding holds, the loss is the loss of the real frames alone.
    noisy_mono, noisy_stereo = mono.clone(), stereo.clone()
    noisy_mono[..., real:] = 3
    noisy_stereo[..., real:] = 5
    assert torch.allclose(model(noisy_mono, noisy_stereo, frames_mask=mask).loss, padded_loss, atol=1e-6)
    cut_loss = model(mono[..., :real], stereo[..., :real]).loss
    assert torch.allclose(padded_loss, cut_loss, atol=1e-5)


def test_tiny_model_overfits_one_batch():
    model = tiny_model(hidden_size=32, intermediate_size=64).train()
    mono, stereo = random_batch(model, batch=4, frames=16)
    style = torch.tensor([0, 1, 2, 3])
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    first = None
    for _ in range(60):
        loss = model(mono, stereo, style_ids=style).loss
        first = first if first is not None else loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.5 * first


def test_codec_stays_frozen_and_in_eval_mode():
    model = tiny_model().train()
    assert not model.codec.training
    assert not any(p.requires_grad for p in model.codec.parameters())
    assert model.num_transformer_parameters() < sum(p.numel() for p in model.parameters())


def test_stereo_audio_round_trips_through_codes():
    model = tiny_model()
    rate, hop = model.config.sampling_rate, model.config.hop_length
    audio = torch.randn(2, 2, rate // 10) * 0.1
    codes = model.encode_stereo(audio)
    assert codes.shape == (2, model.config.num_stereo_codebooks, -(-audio.shape[-1] // hop))
    # Left and right are coded apart: the left codes are the left channel's own.
    assert torch.equal(codes[:, 0::2], model.encode_mono(audio[:, 0]))
    decoded = model.decode_stereo(codes, num_samples=audio.shape[-1])
    assert decoded.shape == audio.shape


def test_width_control_is_the_side_to_mid_ratio_in_db():
    signal = torch.randn(1000)
    assert stereo_width_db(torch.stack([signal, signal])) < -70  # dual mono: no side
    # L = s, R = s / 2: mid 0.75 s, side 0.25 s, so the ratio is 20 log10(1/3) = -9.54 dB.
    assert abs(stereo_width_db(torch.stack([signal, 0.5 * signal])).item() - 20 * math.log10(1 / 3)) < 1e-3


def test_context_dropout_hides_the_teacher_forced_tokens_while_training_only():
    overrides = dict(dropout=0.0, condition_dropout=0.0, context_dropout=1 - 1e-9)
    model = tiny_model(spatial=True, **overrides)
    features = torch.randn(2, model.config.num_mono_channels, 12)
    first = torch.randint(0, model.config.codebook_size, (2, model.config.num_stereo_codebooks, 12))
    second = torch.randint(0, model.config.codebook_size, first.shape)
    model.train()
    # every input token replaced by the special one: the predictions cannot depend on the tokens given
    assert torch.equal(model(features, first).logits, model(features, second).logits)
    model.eval()  # at inference the context is the context
    assert not torch.equal(model(features, first).logits, model(features, second).logits)
    plain = tiny_model(spatial=True, dropout=0.0, condition_dropout=0.0)
    assert torch.equal(plain(features, first).logits, model(features, first).logits)  # same seed, same weights
