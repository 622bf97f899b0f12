"""Fine-tuning a trained model on a new mixing style: a new style tag, all weights or LoRA adapters."""

from __future__ import annotations

import logging
import math
import os
import warnings

from ..audio import AUDIO_EXTENSIONS
from ..modeling import Mono2StereoModel
from .config import DataConfig, ModelSource, SourceConfig, TrainingConfig
from .loop import TrainingResult, train
from .sources import list_audio_files
from .synthetic import MIXING_STYLES

logger = logging.getLogger("mono2stereo")


def lora_model(model: Mono2StereoModel, rank: int = 8, alpha: int = 16):
    """Wrap the layers the model names (`lora_target_modules`) with LoRA adapters; the style embedding trains whole."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=rank,
        lora_alpha=alpha,
        target_modules=model.lora_target_modules(),
        modules_to_save=list(model.LORA_TRAINED_IN_FULL),
    )
    with warnings.catch_warnings():  # peft reads a property that transformers 5 deprecated: not the user's to fix
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        return get_peft_model(model, config)


def data_source(data: str, style: str) -> SourceConfig:
    """A source for `--data`: `synthetic:STYLE`, a folder of audio files or token shards, or a dataset id/repo."""
    if data.startswith("synthetic:"):
        synthetic_style = data.split(":", 1)[1]
        if synthetic_style not in MIXING_STYLES:
            raise ValueError(f"--data {data}: synthetic styles are {', '.join(MIXING_STYLES)}")
        return SourceConfig(kind="synthetic", styles=[synthetic_style], style=style, num_mixes=256, duration_s=1.0)
    looks_local = data.startswith((".", "/", "~")) or data.endswith("/") or data.count("/") > 1 or os.sep in data
    if looks_local and not os.path.exists(os.path.expanduser(data)):
        raise ValueError(
            f"--data {data} does not exist; give a folder of audio files, synthetic:STYLE or a Hub dataset id"
        )
    if os.path.isdir(data):
        names = [name for _, _, files in os.walk(data) for name in files]
        if any(name.startswith("tokens-") and name.endswith(".safetensors") for name in names):
            return SourceConfig(kind="tokens", path=data, style=style)
        if any(name.lower().endswith(AUDIO_EXTENSIONS) for name in names):
            return SourceConfig(kind="folder", path=data, style=style)
    return SourceConfig(kind="hub", path=data, style=style)


def crops_per_file(folder: str, batch_size: int) -> int:
    """Crops taken from each file of a style folder, so that a folder smaller than a batch still fills one."""
    count = len(list_audio_files(folder))
    crops = max(1, math.ceil(batch_size / count))
    if crops > 1:
        logger.warning(
            "mono2stereo: %s holds %d audio files, fewer than the batch of %d; taking %d crops of each per epoch",
            folder,
            count,
            batch_size,
            crops,
        )
    return crops


def finetune(
    model: Mono2StereoModel | str,
    data: str | SourceConfig,
    style: str,
    output_dir: str,
    max_steps: int = 200,
    lora: bool = False,
    init_style: str | None = None,
    learning_rate: float | None = None,
    batch_size: int = 8,
    seed: int = 0,
    show_progress: bool = False,
    **settings,
) -> Mono2StereoModel:
    """Add `style` to a trained model, train on `data` tagged with it, and save the model into `output_dir`."""
    if isinstance(model, str):
        model = Mono2StereoModel.from_pretrained(model)
    model.add_style(style, init_from=init_style)
    source = data if isinstance(data, SourceConfig) else data_source(data, style)
    source.style = style
    data_settings = dict(settings.pop("data", {}))
    if source.kind == "folder" and "crops_per_example" not in data_settings:
        data_settings["crops_per_example"] = crops_per_file(source.path, batch_size)
    config = TrainingConfig(
        model=ModelSource(from_pretrained=model.name_or_path or "in-memory model"),
        data=DataConfig(sources=[source], **data_settings),
        seed=seed,
        batch_size=batch_size,
        learning_rate=learning_rate or (1e-3 if lora else 1e-4),
        warmup_steps=min(20, max_steps // 10),
        max_steps=max_steps,
        save_every=max(max_steps // 2, 1),
        eval_every=max_steps,
        report_to=settings.pop("report_to", "auto"),
        **settings,
    )
    trainable = lora_model(model) if lora else model
    result: TrainingResult = train(config, output_dir, model=trainable, show_progress=show_progress, save_model=False)
    finetuned = result.model.merge_and_unload() if lora else result.model
    finetuned.eval()
    if result.accelerator.is_main_process:
        finetuned.save_pretrained(output_dir)
    result.accelerator.wait_for_everyone()
    return finetuned


__all__ = ["lora_model", "data_source", "crops_per_file", "finetune"]
