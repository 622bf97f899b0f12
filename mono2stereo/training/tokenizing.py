"""`mono2stereo tokenize`: run the data pipeline and the codec once, and write token shards for training."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from .config import TrainingConfig
from .model_loading import build_model
from .preprocessing import CodecEncoder
from .stream import TrainingStream
from .token_shards import TokenShardWriter


@torch.no_grad()
def tokenize_sources(
    config: TrainingConfig,
    output_dir: str,
    max_examples: int | None = None,
    examples_per_shard: int = 1024,
    batch_size: int = 32,
    device: str = "cpu",
    show_progress: bool = False,
    eval_split: bool = False,
) -> TokenShardWriter:
    """Encode one epoch of the config's training (or held-out) sources into token shards in `output_dir`."""
    sources = config.data.eval_sources if eval_split else config.data.sources
    if any(source.kind == "tokens" for source in sources):
        raise ValueError("these sources are token shards already; tokenize audio sources")
    model = build_model(config.model, seed=config.seed)
    encoder = CodecEncoder(model).to(device)
    stream = TrainingStream(sources, config.data, model.config, seed=config.seed + (1 if eval_split else 0))
    loader = DataLoader(stream.dataset(), batch_size=batch_size, collate_fn=stream.collate)
    writer = TokenShardWriter(output_dir, model.config, examples_per_shard)
    bar = tqdm(total=max_examples, desc="tokenizing", unit="example", disable=not show_progress)
    done = 0
    for batch in loader:
        if max_examples is not None:
            batch = {key: value[: max_examples - done] for key, value in batch.items()}
        audio = batch["audio"].to(device)
        mono, stereo = encoder(audio)
        mirrored = encoder.mirrored_side_codes(audio) if encoder.stereo_codec.needs_mirrored_codes else None
        styles = [model.config.styles[i] if i < len(model.config.styles) else None for i in batch["style_ids"]]
        writer.add(mono, stereo, batch["width_db"], styles, batch["ids"], mirrored_side_codes=mirrored)
        done += len(batch["ids"])
        bar.update(len(batch["ids"]))
        if max_examples is not None and done >= max_examples:
            break
    writer.close()
    bar.close()
    writer.skipped = stream.skipped
    return writer


__all__ = ["tokenize_sources"]
