"""Publishing to the Hub: the model card and the push of config, safetensors weights and card in one commit."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from huggingface_hub import CommitOperationAdd, HfApi, ModelCard, ModelCardData

CARD_TAGS = ["mono2stereo", "audio", "music", "upmixing", "mono-to-stereo", "encodec"]
CARD_TEMPLATE = Path(__file__).with_name("model_card_template.md")  # the card's prose; the figures come from eval


def metric_table(metrics: Mapping[str, Mapping[str, float]]) -> str:
    """A markdown table of metrics (rows) by system (columns), from `{system: {metric: value}}`; "" for none."""
    systems = [name for name, values in metrics.items() if values]
    if not systems:
        return ""
    names = list(dict.fromkeys(metric for system in systems for metric in metrics[system]))

    def cell(system: str, metric: str) -> str:
        value = metrics[system].get(metric)
        return "" if value is None else f"{value:.4g}"

    header = "| metric | " + " | ".join(systems) + " |\n|---|" + "---|" * len(systems)
    rows = ["| " + metric + " | " + " | ".join(cell(s, metric) for s in systems) + " |" for metric in names]
    return "\n".join([header, *rows])


def build_model_card(
    model,
    codec: str | None = None,
    training_data: str | Sequence[str] | None = None,
    metrics: Mapping[str, float] | None = None,
    training_command: str | None = None,
    data_description: str | None = None,
    evaluation_note: str | None = None,
    extra_limitations: Sequence[str] = (),
    baselines: Mapping[str, Mapping[str, float]] | None = None,
) -> ModelCard:
    """A model card from `model_card_template.md`: the Hub metadata, the codec, data, the metrics of this model
    (and of `baselines`, other systems scored in the same evaluation, as further columns), use and limitations."""
    config = model.config
    stereo_codec = config.stereo_codec
    datasets = [training_data] if isinstance(training_data, str) else list(training_data or [])
    data = ModelCardData(
        library_name="mono2stereo",
        pipeline_tag="audio-to-audio",
        license="apache-2.0",
        tags=CARD_TAGS,
        base_model=codec if codec and "/" in codec else None,
        datasets=[d for d in datasets if "/" in d and not Path(d).exists()] or None,
    )
    data_text = ", ".join(f"`{d}`" for d in datasets)
    settings = model.generation_settings
    generation_line = ", ".join(f"{name} {value}" for name, value in settings.to_dict().items() if value is not None)
    return ModelCard.from_template(
        data,
        template_path=str(CARD_TEMPLATE),
        what=stereo_codec.card_description,
        codec_line=stereo_codec.card_codec_line(codec),
        codec_limitation=stereo_codec.card_limitation,
        sampling_rate=config.sampling_rate,
        num_codebooks=config.num_codebooks,
        codebook_size=config.codebook_size,
        frame_rate=f"{config.frame_rate:g}",
        transformer_millions=f"{model.num_transformer_parameters() / 1e6:.1f}",
        hidden_size=config.hidden_size,
        num_encoder_layers=config.num_encoder_layers,
        num_decoder_layers=config.num_decoder_layers,
        channel_layout=config.channel_layout,
        window_frames=config.window_frames,
        window_seconds=f"{config.window_seconds:g}",
        styles=list(config.styles),
        generation_line=generation_line,
        data_text=" ".join(part for part in (data_description, data_text) if part) or "Not recorded.",
        training_command=training_command,
        evaluation_note=evaluation_note,
        metric_table=metric_table({"this model": dict(metrics or {}), **dict(baselines or {})}),
        extra_limitations=list(extra_limitations),
    )


def push_model(
    model,
    repo_id: str,
    commit_message: str = "Upload mono2stereo model",
    private: bool | None = None,
    token: str | None = None,
    revision: str | None = None,
    card: ModelCard | None = None,
    **card_kwargs,
):
    """Create the repo if needed and upload config, sampling settings, weights and the card in one commit."""
    api = HfApi(token=token)
    api.create_repo(repo_id, private=private, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        model.save_pretrained(folder)
        (card or build_model_card(model, **card_kwargs)).save(Path(folder) / "README.md")
        operations = [
            CommitOperationAdd(path_in_repo=path.name, path_or_fileobj=str(path))
            for path in sorted(Path(folder).iterdir())
        ]
        return api.create_commit(
            repo_id=repo_id, operations=operations, commit_message=commit_message, revision=revision
        )


__all__ = ["build_model_card", "push_model"]
