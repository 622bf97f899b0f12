"""The mid-side channel layout: the side is coded as its own signal, the mid codes are the mono's."""

from collections import Counter

import numpy as np
import pytest
import torch

from mono2stereo.modeling import Mono2StereoModel, tiny_config, tiny_model
from mono2stereo.modeling.encodec_layouts import stereo_codec_for
from mono2stereo.training.config import DataConfig, ModelSource, SourceConfig, TrainingConfig
from mono2stereo.training.preprocessing import CodecEncoder
from mono2stereo.training.stream import TrainingStream
from mono2stereo.training.token_shards import TokenShardWriter, read_token_shard
from mono2stereo.training.tokenizing import tokenize_sources


def stereo_noise(batch=2, samples=800, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 2, samples, generator=generator) * 0.1


def test_unknown_layout_is_named():
    with pytest.raises(ValueError, match="channel_layout"):
        tiny_config(channel_layout="surround")


@pytest.mark.parametrize("layout", ["left-right", "mid-side"])
def test_layout_signals_invert(layout):
    audio = stereo_noise()
    codec = stereo_codec_for(tiny_config(channel_layout=layout))
    assert torch.allclose(codec.stereo(*codec.signals(audio)), audio, atol=1e-7)


def test_mid_side_codes_are_the_mono_codes_and_the_side_codes():
    model = tiny_model(channel_layout="mid-side")
    audio = stereo_noise()
    codes = model.encode_stereo(audio)
    assert torch.equal(codes[:, 0::2], model.encode_mono(audio.mean(1)))
    assert torch.equal(codes[:, 1::2], model.encode_mono((audio[:, 0] - audio[:, 1]) / 2))
    # Decoding gives L = M + S and R = M - S of the decoded mid and side.
    decoded = model.decode_stereo(codes, audio.shape[-1])
    mid, side = model.decode_mono(codes[:, 0::2], audio.shape[-1]), model.decode_mono(codes[:, 1::2], audio.shape[-1])
    assert torch.allclose(decoded[:, 0], mid + side, atol=1e-6) and torch.allclose(
        decoded[:, 1], mid - side, atol=1e-6
    )


@pytest.mark.parametrize("layout", ["left-right", "mid-side"])
def test_training_encoder_agrees_with_the_model(layout):
    model = tiny_model(channel_layout=layout)
    audio = stereo_noise()
    mono, stereo = CodecEncoder(model)(audio)
    assert torch.equal(mono, model.encode_mono(audio.mean(1)))
    assert torch.equal(stereo, model.encode_stereo(audio))


def test_mid_side_generation_sets_the_mid_codes_to_the_mono():
    model = tiny_model(seed=1, initializer_range=0.5, channel_layout="mid-side")
    mono = torch.randint(0, model.config.codebook_size, (3, model.config.num_codebooks, 20))
    generated = model.generate(mono, seed=0)
    assert torch.equal(generated[:, 0::2], mono)
    assert not torch.equal(generated[:, 1::2], mono)  # the side is generated
    # A prefix is kept as given; after it the mid is the mono again. Cache or not, the same.
    prefix = torch.randint(0, model.config.codebook_size, (3, model.config.num_stereo_codebooks, 6))
    continued = model.generate(mono, temperature=0, prefix_codes=prefix)
    assert torch.equal(continued[..., :6], prefix) and torch.equal(continued[:, 0::2, 6:], mono[..., 6:])
    assert torch.equal(continued, model.generate(mono, temperature=0, prefix_codes=prefix, use_cache=False))


def test_layout_is_saved_with_the_model(tmp_path):
    model = tiny_model(channel_layout="mid-side")
    model.save_pretrained(tmp_path)
    loaded = Mono2StereoModel.from_pretrained(tmp_path)
    assert loaded.config.channel_layout == "mid-side"
    audio = stereo_noise()
    assert torch.equal(loaded.encode_stereo(audio), model.encode_stereo(audio))


def test_token_shards_of_the_other_layout_are_refused(tmp_path):
    left_right = tiny_model()
    mono, stereo = CodecEncoder(left_right)(stereo_noise())
    writer = TokenShardWriter(str(tmp_path), left_right.config, examples_per_shard=2)
    writer.add(mono, stereo, torch.zeros(2), ["modern", "modern"], ["a", "b"])
    writer.close()
    shard = str(next(tmp_path.glob("tokens-*.safetensors")))
    with pytest.raises(ValueError, match="channel_layout"):
        list(read_token_shard(shard, tiny_config(channel_layout="mid-side"), Counter()))


def test_old_mid_side_token_shards_without_mirrored_codes_are_not_swapped(tmp_path):
    model = tiny_model(channel_layout="mid-side")
    mono, stereo = CodecEncoder(model)(stereo_noise(batch=4))
    writer = TokenShardWriter(str(tmp_path), model.config, examples_per_shard=4)
    writer.add(mono, stereo, torch.zeros(4), ["modern"] * 4, ["a", "b", "c", "d"])
    writer.close()
    data = DataConfig(sources=[SourceConfig(kind="tokens", path=str(tmp_path))], swap_probability=1.0)
    examples = list(TrainingStream(data.sources, data, model.config).dataset())
    assert all(np.array_equal(e["stereo_codes"], s.numpy()) for e, s in zip(examples, stereo, strict=True))


def test_tokenized_mid_side_examples_are_swapped_to_the_mirrored_sides_codes(tmp_path):
    model = tiny_model(channel_layout="mid-side")
    source = SourceConfig(kind="synthetic", num_mixes=4, duration_s=0.25, num_shards=1)
    keep = dict(silence_db=-200.0, min_width_db=-200.0, gain_db=[0.0, 0.0])
    model_dir = tmp_path / "model"
    model.save_pretrained(model_dir)
    config = TrainingConfig(
        model=ModelSource(from_pretrained=str(model_dir)),
        data=DataConfig(sources=[source], swap_probability=0.0, **keep),
    )
    tokenize_sources(config, str(tmp_path / "tokens"), batch_size=2)

    # the crops as tokenize read them (no swap), and their codes with L and R swapped
    audio = TrainingStream([source], config.data, model.config)
    crops = audio.collate(list(audio.dataset()))
    encoder = CodecEncoder(model)
    mono, plain = encoder(crops["audio"])
    _, mirrored = encoder(crops["audio"].flip(1))
    assert not torch.equal(mirrored[:, 1::2], plain[:, 1::2])  # codes of -S are not those of S

    tokens = [SourceConfig(kind="tokens", path=str(tmp_path / "tokens"))]
    for probability, expected in ((0.0, plain), (1.0, mirrored)):
        data = DataConfig(sources=tokens, swap_probability=probability, **keep)
        stream = TrainingStream(tokens, data, model.config)
        batch = stream.collate(list(stream.dataset()))
        assert batch["ids"] == crops["ids"]
        assert torch.equal(batch["mono_codes"], mono)
        assert torch.equal(batch["stereo_codes"], expected)  # the mid stays, the side is the mirrored one's
