"""Fine-tuning on a new style, LoRA merging, and loading pretrained codec weights."""

import copy

import pytest
import torch
from transformers import EncodecModel

pytest.importorskip("peft")

from mono2stereo.modeling import Mono2StereoModel, randomize_codebooks, stereo_width_db, tiny_model  # noqa: E402
from mono2stereo.modeling.codec import tiny_codec_config  # noqa: E402
from mono2stereo.training.config import DataConfig, ModelSource, SourceConfig  # noqa: E402
from mono2stereo.training.finetune import finetune, lora_model  # noqa: E402
from mono2stereo.training.model_loading import build_model, load_codec_weights  # noqa: E402
from mono2stereo.training.preprocessing import CodecEncoder  # noqa: E402
from mono2stereo.training.stream import TrainingStream  # noqa: E402


def vintage_source(seed: int) -> SourceConfig:
    return SourceConfig(kind="synthetic", styles=["vintage"], num_mixes=64, duration_s=0.25, num_shards=4, seed=seed)


def test_add_style_grows_the_embedding_before_the_unconditional_row():
    model = tiny_model()
    old = model.style_embedding.weight.detach().clone()
    assert model.add_style("sixties", init_from="wide") is model
    assert model.config.styles[-1] == "sixties" and model.config.style_id("sixties") == 4
    weight = model.style_embedding.weight
    assert weight.shape == (6, old.shape[1])
    assert torch.equal(weight[:4], old[:4]) and torch.equal(weight[5], old[4])  # unconditional stays last
    assert torch.equal(weight[4], old[model.config.style_id("wide")])
    with pytest.raises(ValueError, match="already has style"):
        model.add_style("wide")


@pytest.mark.slow  # over 4 s on a 2-core CPU
def test_finetuning_on_vintage_moves_the_generated_width_toward_it(tmp_path):
    base = tiny_model(seed=0)
    base.save_pretrained(tmp_path / "base")
    # Held-out vintage crops: their width after the codec is what the model can reach.
    data = DataConfig(sources=[vintage_source(seed=99)])
    stream = TrainingStream(data.sources, data, base.config, seed=5)
    batch = stream.collate(list(stream.dataset())[:16])
    mono, stereo = CodecEncoder(base)(batch["audio"])
    target = stereo_width_db(base.decode_stereo(stereo)).mean().item()

    def generated_width(model) -> float:
        return stereo_width_db(model.decode_stereo(model.generate(mono, style="sixties", seed=0))).mean().item()

    before = generated_width(copy.deepcopy(base).add_style("sixties"))
    tuned = finetune(
        str(tmp_path / "base"),
        vintage_source(seed=0),
        "sixties",
        str(tmp_path / "tuned"),
        max_steps=60,
        learning_rate=1e-2,
        report_to="none",
    )
    after = generated_width(tuned)
    assert abs(after - target) < abs(before - target) - 5, (before, after, target)
    reloaded = Mono2StereoModel.from_pretrained(tmp_path / "tuned")
    assert reloaded.config.styles == ["modern", "vintage", "wide", "narrow", "sixties"]


def test_lora_finetuning_merges_into_a_plain_model(tmp_path):
    base = tiny_model(seed=0)
    base.save_pretrained(tmp_path / "base")
    finetune(
        str(tmp_path / "base"),
        "synthetic:vintage",
        "sixties",
        str(tmp_path / "lora"),
        max_steps=3,
        lora=True,
        learning_rate=1e-2,
        report_to="none",
    )
    tuned = Mono2StereoModel.from_pretrained(tmp_path / "lora")  # no peft needed to load it
    assert tuned.config.styles[-1] == "sixties"
    before, after = base.state_dict(), tuned.state_dict()
    changed = [name for name in before if "style" not in name and not torch.equal(before[name], after[name])]
    assert changed and all(
        name.startswith(("mono_encoder", "decoder", "mono_projection", "heads")) for name in changed
    )
    assert not any("lora" in name for name in after)


def test_pretrained_codec_weights_are_loaded_into_the_model(tmp_path):
    codec = EncodecModel(tiny_codec_config())
    randomize_codebooks(codec, torch.Generator().manual_seed(7))
    codec.save_pretrained(tmp_path / "codec")
    model = build_model(ModelSource(config="configs/model/tiny.json", codec=str(tmp_path / "codec")))
    for name, value in codec.state_dict().items():
        assert torch.equal(model.codec.state_dict()[name], value), name
    other = EncodecModel(tiny_codec_config(sampling_rate=16000))
    other.save_pretrained(tmp_path / "other")
    with pytest.raises(ValueError, match="sampling_rate"):
        load_codec_weights(model, str(tmp_path / "other"))


@pytest.mark.parametrize("missing", ["./no-such-records", "/no/such/records/", "records/of/mine"])
def test_a_missing_data_folder_is_named_in_one_line(missing):
    from mono2stereo.training.finetune import data_source

    with pytest.raises(ValueError, match="does not exist"):
        data_source(missing, "sixties")


def test_lora_wrapping_shows_no_library_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # a deprecation inside peft or transformers is not the user's
        wrapped = lora_model(tiny_model())
    assert any("lora_" in name for name, _ in wrapped.named_parameters())
