"""Publishing to the Hub: the model card and the push of config, safetensors weights and card in one commit."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from huggingface_hub import CommitOperationAdd, HfApi, ModelCard, ModelCardData

CARD_TAGS = ["mono2stereo", "audio", "music", "upmixing", "mono-to-stereo", "encodec"]


def build_model_card(
    model,
    codec: str | None = None,
    training_data: str | Sequence[str] | None = None,
    metrics: Mapping[str, float] | None = None,
    training_command: str | None = None,
    data_description: str | None = None,
    evaluation_note: str | None = None,
    extra_limitations: Sequence[str] = (),
) -> ModelCard:
    """A model card with the Hub metadata, the codec, data, metrics, intended use and limitations."""
    config = model.config
    datasets = [training_data] if isinstance(training_data, str) else list(training_data or [])
    data = ModelCardData(
        library_name="mono2stereo",
        pipeline_tag="audio-to-audio",
        license="apache-2.0",
        tags=CARD_TAGS,
        base_model=codec if codec and "/" in codec else None,
        datasets=[d for d in datasets if "/" in d and not Path(d).exists()] or None,
    )
    codec_line = f"`{codec}`" if codec else "a custom EnCodec"
    metric_rows = "\n".join(f"| {name} | {value:.4g} |" for name, value in (metrics or {}).items())
    metrics_text = f"| metric | value |\n|---|---|\n{metric_rows}" if metric_rows else "Not evaluated yet."
    if evaluation_note:
        metrics_text = f"{evaluation_note}\n\n{metrics_text}"
    limitation_lines = "".join(f"\n- {line}" for line in extra_limitations)
    data_text = ", ".join(f"`{d}`" for d in datasets)
    data_text = " ".join(part for part in (data_description, data_text) if part) or "Not recorded."
    if config.is_spatial:
        codec_line = "spatial codec (parametric stereo, no weights)"
    what = config.stereo_codec.card_description
    command_text = f"\n\nTrained with:\n\n```bash\n{training_command}\n```" if training_command else ""
    body = f"""
# mono2stereo upmixer

A mono-conditioned decoder transformer that turns a mono music recording into stereo by generating {what}

## Model

| | |
|---|---|
| codec | {codec_line}: {config.sampling_rate} Hz, {config.num_codebooks} codebooks x {config.codebook_size}, \
{config.frame_rate:g} Hz frames |
| transformer | {model.num_transformer_parameters() / 1e6:.1f}M parameters, hidden {config.hidden_size}, \
{config.num_encoder_layers} encoder + {config.num_decoder_layers} decoder layers |
| channel layout | {config.channel_layout} |
| window | {config.window_frames} frames ({config.window_seconds:g} s) |
| styles | {", ".join(config.styles)} |

## Use

```python
import mono2stereo

stereo, rate = mono2stereo.upmix(audio, sampling_rate, model="path/or/hub-id", style="{config.styles[0]}")
```

or `mono2stereo upmix song.wav -o song-stereo.wav --model path/or/hub-id`.

## Training data

{data_text}{command_text}

## Evaluation

{metrics_text}

## Intended use

Giving mono recordings (old records, home demos) a stereo image, and making alternative stereo mixes of dated
stereo records folded to mono, in a chosen style and width.

## Limitations

- It places sources plausibly, not as the original engineer did: a generative model's stereo image is one of many.
- Quality is bounded by the codec; the input is kept untouched in the mid, so codec artefacts only reach the side.
- Trained on the data above only; music far from it may get a narrow or unstable image.
- Not meant for speech or for restoring damaged recordings.{limitation_lines}
"""
    return ModelCard(f"---\n{data.to_yaml()}\n---\n{body}")


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
