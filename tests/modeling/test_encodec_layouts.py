"""The EnCodec stereo codecs: one object per channel layout says what a token stream means."""

import numpy as np
import pytest
import torch

from mono2stereo.audio import CHANNELS_FIRST, fold
from mono2stereo.modeling import tiny_config, tiny_model
from mono2stereo.modeling.encodec_layouts import (
    CHANNEL_LAYOUTS,
    LeftRightCodec,
    MidSideCodec,
    stereo_codec_for,
)
from mono2stereo.modeling.spatial_codec import SpatialCodec

LAYOUTS = list(CHANNEL_LAYOUTS)


def stereo_noise(batch=2, samples=800, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 2, samples, generator=generator) * 0.1


def random_codes(config, batch=3, frames=7, seed=0):
    generator = torch.Generator().manual_seed(seed)
    shape = (batch, config.num_stereo_codebooks, frames)
    return torch.randint(0, config.codebook_size, shape, generator=generator)


def test_each_layout_has_its_class_and_the_spatial_kind_its_codec():
    assert type(stereo_codec_for(tiny_config())) is LeftRightCodec
    assert type(stereo_codec_for(tiny_config(channel_layout=MidSideCodec.layout))) is MidSideCodec
    assert type(tiny_model(spatial=True).stereo_codec) is SpatialCodec
    assert type(tiny_model(channel_layout=MidSideCodec.layout).stereo_codec) is MidSideCodec


@pytest.mark.parametrize("layout", LAYOUTS)
def test_stereo_round_trips_through_codes(layout):
    model = tiny_model(channel_layout=layout)
    codec, audio = model.stereo_codec, stereo_noise()
    codes = codec.encode_stereo(audio)
    frames = -(-audio.shape[-1] // model.config.hop_length)
    assert codes.shape == (2, model.config.num_stereo_codebooks, frames) == (2, codec.num_stereo_codebooks, frames)
    decoded = codec.decode_stereo(codes, audio.shape[-1])
    assert decoded.shape == audio.shape
    # decoding is the codec's own on each signal, put back into stereo by the layout
    first, second = (model.decode_mono(codes[:, k::2], audio.shape[-1]) for k in (0, 1))
    assert torch.allclose(decoded, codec.stereo(first, second), atol=1e-6)
    # the codes of the decoded stereo's signals are the codes again for most tokens: a consistent code path
    assert (codec.encode_stereo(decoded) == codes).float().mean() > 0.5


@pytest.mark.parametrize("layout", LAYOUTS)
def test_signals_invert_and_the_training_pair_agrees_with_the_model(layout):
    model = tiny_model(channel_layout=layout)
    codec, audio = model.stereo_codec, stereo_noise()
    assert torch.allclose(codec.stereo(*codec.signals(audio)), audio, atol=1e-7)
    mono, stereo = codec.encode_both(audio)
    assert torch.equal(mono, model.encode_mono(fold(audio, CHANNELS_FIRST)))
    assert torch.equal(stereo, model.encode_stereo(audio))


def test_mid_side_fixed_codebooks_are_the_mono_codes():
    model = tiny_model(channel_layout=MidSideCodec.layout)
    codec, audio = model.stereo_codec, stereo_noise()
    fixed = codec.fixed_codebooks
    assert fixed.tolist() == [True, False] * model.config.num_codebooks
    assert torch.equal(codec.encode_stereo(audio)[:, fixed], model.encode_mono(fold(audio, CHANNELS_FIRST)))
    assert not stereo_codec_for(tiny_config()).fixed_codebooks.any()  # left-right: all generated


def test_left_right_swap_matches_the_codes_of_the_swapped_audio_and_twice_is_identity():
    model = tiny_model()
    codec, audio = model.stereo_codec, stereo_noise()
    codes = codec.encode_stereo(audio)
    assert torch.equal(codec.swap_channels(codes), codec.encode_stereo(audio.flip(1)))
    assert torch.equal(codec.swap_channels(codec.swap_channels(codes)), codes)
    shard_row = codes[0].numpy()  # a token shard's example: numpy, without the batch axis
    assert np.array_equal(codec.swap_channels(shard_row), codec.swap_channels(codes)[0].numpy())
    assert np.array_equal(codec.swap_channels(codec.swap_channels(shard_row)), shard_row)


def test_mid_side_swap_uses_the_mirrored_side_codes_and_twice_is_identity():
    model = tiny_model(channel_layout=MidSideCodec.layout)
    codec, audio = model.stereo_codec, stereo_noise()
    codes, mirrored = codec.encode_stereo(audio), codec.mirrored_codes(audio)
    swapped = codec.swap_channels(codes, mirrored)
    assert torch.equal(swapped, codec.encode_stereo(audio.flip(1)))  # the mid stays, the side is -S's
    assert torch.equal(codec.swap_channels(swapped, codes[:, 1::2]), codes)  # back with the side's own codes
    row, mirrored_row = codes[0].numpy(), mirrored[0].numpy()
    assert np.array_equal(codec.swap_channels(row, mirrored_row), swapped[0].numpy())
    assert codec.needs_mirrored_codes and not stereo_codec_for(tiny_config()).needs_mirrored_codes
    with pytest.raises(ValueError, match="mirrored"):
        codec.swap_channels(codes)
    with pytest.raises(ValueError, match="no mirrored codes"):
        stereo_codec_for(tiny_config()).mirrored_codes(audio)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_config_alone_answers_token_questions_but_not_audio_ones(layout):
    config = tiny_config(channel_layout=layout)
    codec = config.stereo_codec
    codes = random_codes(config)
    assert codec.num_stereo_codebooks == config.num_stereo_codebooks == 2 * config.num_codebooks
    assert codec.summary == config.codec_summary and "EnCodec" in codec.summary
    assert codec.card_label in codec.card_description
    mirrored = codes[:, 1::2].flip(-1)
    assert torch.equal(codec.swap_channels(codec.swap_channels(codes, mirrored), codes[:, 1::2]), codes)
    with pytest.raises(ValueError, match="no codec"):
        codec.encode_stereo(stereo_noise())


def test_spatial_codec_has_the_same_interface():
    model = tiny_model(spatial=True)
    codec, audio = model.stereo_codec, stereo_noise(samples=2000)
    mono, tokens = codec.encode_both(audio)
    assert torch.equal(tokens, model.encode_stereo(audio)) and torch.equal(mono, model.encode_mono(audio.mean(1)))
    assert not codec.fixed_codebooks.any() and codec.fixed_codebooks.shape == (model.config.num_stereo_codebooks,)
    assert codec.summary == model.config.codec_summary and not codec.needs_mirrored_codes
    assert torch.equal(codec.swap_channels(codec.swap_channels(tokens)), tokens)


def test_unknown_layouts_are_named():
    config = tiny_config()
    config.channel_layout = "surround"  # past the config's own check
    with pytest.raises(ValueError, match="surround"):
        stereo_codec_for(config)
