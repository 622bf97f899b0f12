"""The codec training loop: AdamW on reconstruction + commitment losses, resumable from `checkpoint.safetensors`.

The checkpoint is a safetensors file with the rest of the state as JSON (`state_file`): resuming never unpickles.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch
from transformers import EncodecModel

from .config import CodecTrainingConfig
from .data import CodecCrops
from .losses import CodecReconstructionLoss
from .quantizer import ResidualQuantizerTraining
from .render import general_midi_renders
from .state_file import load_state, save_state

CHECKPOINT_NAME = "checkpoint.safetensors"
PICKLED_CHECKPOINT_NAME = "checkpoint.pt"  # what older versions wrote; never loaded, since a pickle can run code
FINAL_NAME = "final"


def build_codec(config: CodecTrainingConfig, seed: int | None = None) -> EncodecModel:
    """A freshly initialised codec of `config.codec` (its codebooks are zero until trained)."""
    if seed is not None:
        torch.manual_seed(seed)
    return EncodecModel(config.codec)


class CodecTrainer:
    """Holds the codec, its quantizer training, losses and optimiser; `step(batch)` trains on one batch."""

    def __init__(self, config: CodecTrainingConfig, codec: EncodecModel | None = None) -> None:
        self.config = config
        self.codec = codec if codec is not None else build_codec(config, seed=config.training.seed)
        self.codec.train()
        self.quantizer = ResidualQuantizerTraining(self.codec.quantizer, config.quantizer)
        weights = {"waveform_l1": config.losses.waveform_l1, "stft": config.losses.stft, "mel": config.losses.mel}
        self.loss = CodecReconstructionLoss(
            config.codec.sampling_rate,
            config.losses.stft_fft_sizes,
            config.losses.mel_fft_size,
            config.losses.mel_bands,
            weights,
        )
        settings = config.training
        parameters = [p for p in self.codec.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(
            parameters, lr=settings.learning_rate, betas=tuple(settings.betas), weight_decay=settings.weight_decay
        )
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, self.learning_rate_factor)
        self.step_count = 0

    def learning_rate_factor(self, step: int) -> float:
        """Linear warm-up, then cosine decay to `final_learning_rate_fraction` at `max_steps`."""
        settings = self.config.training
        if step < settings.warmup_steps:
            return (step + 1) / settings.warmup_steps
        progress = min(1.0, (step - settings.warmup_steps) / max(1, settings.max_steps - settings.warmup_steps))
        floor = settings.final_learning_rate_fraction
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))

    @property
    def initialized(self) -> bool:
        """Whether the codebooks have been set (by k-means or a checkpoint)."""
        return bool(self.codec.quantizer.layers[0].codebook.cluster_size.sum() > 0)

    @torch.no_grad()
    def initialize_codebooks(self, audio: torch.Tensor) -> None:
        """k-means initialisation of every codebook from encoder outputs of `audio` (batch, samples)."""
        generator = torch.Generator().manual_seed(self.config.training.seed)
        self.quantizer.initialize(self.codec.encoder(audio[:, None]), generator)

    def reconstruct(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Encode, quantize (learning the codebooks in training mode) and decode audio (batch, samples)."""
        quantized = self.quantizer(self.codec.encoder(audio[:, None]))
        decoded = self.codec.decoder(quantized.quantized)[:, 0, : audio.shape[-1]]
        return decoded, quantized.commitment_loss

    def step(self, audio: torch.Tensor) -> dict[str, float]:
        """One optimisation step on audio (batch, samples); returns the loss terms."""
        if not self.initialized:
            raise RuntimeError("the codebooks are not initialised; call initialize_codebooks(audio) first")
        self.codec.train()
        self.quantizer.train()
        decoded, commitment = self.reconstruct(audio)
        reconstruction, terms = self.loss(decoded, audio)
        total = reconstruction + self.config.losses.commitment * commitment
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(self.codec.parameters(), self.config.training.grad_clip_norm)
        self.optimizer.step()
        self.scheduler.step()
        self.step_count += 1
        dead = [
            float((cb.cluster_size < self.config.quantizer.dead_code_threshold).float().mean())
            for cb in self.quantizer.codebooks
        ]
        return {
            "loss": float(total.detach()),
            **terms,
            "commitment": float(commitment.detach()),
            "grad_norm": float(grad_norm),
            "learning_rate": self.scheduler.get_last_lr()[0],
            "dead_code_fraction": sum(dead) / len(dead),
        }

    def state_dict(self) -> dict:
        """Everything needed to resume: weights and codebooks, optimiser, schedule, step and RNG states."""
        return {
            "step": self.step_count,
            "codec": self.codec.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "config": self.config.to_dict(),
            "rng": {"torch": torch.get_rng_state(), "numpy": numpy_rng_state(), "python": random.getstate()},
        }

    def load_state_dict(self, state: dict) -> None:
        """Resume from `state_dict()`."""
        self.codec.load_state_dict(state["codec"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.step_count = int(state["step"])
        torch.set_rng_state(state["rng"]["torch"])
        kind, keys, position, has_gauss, cached = state["rng"]["numpy"]
        np.random.set_state((kind, keys.numpy().astype(np.uint32), position, has_gauss, cached))
        version, internal, gauss = state["rng"]["python"]
        random.setstate((version, tuple(internal), gauss))


def numpy_rng_state() -> tuple:
    """numpy's global random state with its key array as a tensor, so it can be stored without pickling."""
    kind, keys, position, has_gauss, cached = np.random.get_state()
    return (kind, torch.from_numpy(keys.astype(np.int64)), int(position), int(has_gauss), float(cached))


def save_checkpoint(trainer: CodecTrainer, output_dir: Path) -> Path:
    """Write `checkpoint.safetensors` atomically (a killed run never leaves a half-written one)."""
    path = output_dir / CHECKPOINT_NAME
    save_state(trainer.state_dict(), path)
    return path


def training_crops(config: CodecTrainingConfig, seed: int) -> CodecCrops:
    """The training stream: cached General-MIDI renders (made on first use) and synthesised clips."""
    data = config.data
    renders = []
    if data.synthetic_fraction < 1.0:
        renders = general_midi_renders(
            data.cache_dir, data.midi_pieces, data.midi_piece_seconds, config.codec.sampling_rate, config.training.seed
        )
    return CodecCrops(renders, data, config.codec.sampling_rate, config.crop_samples, seed=seed)


def batches(crops: CodecCrops, batch_size: int) -> Iterator[torch.Tensor]:
    """Stack the crop stream into batches (batch, samples)."""
    stream = iter(crops)
    while True:
        yield torch.stack([next(stream) for _ in range(batch_size)])


def train_codec(
    config: CodecTrainingConfig,
    output_dir: str | Path,
    max_steps: int | None = None,
    resume: bool = False,
    on_step: Callable[[int, dict[str, float]], None] | None = None,
) -> Path | None:
    """Train (or resume) up to `max_steps` total steps; saves `final/` when `training.max_steps` is reached.

    Returns the `final/` folder when training is complete, else None (resume later with `resume=True`).
    """
    settings = config.training
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(settings.num_threads)
    trainer = CodecTrainer(config)
    checkpoint = output_dir / CHECKPOINT_NAME
    if resume and checkpoint.is_file():
        trainer.load_state_dict(load_state(checkpoint))
    elif resume and (output_dir / PICKLED_CHECKPOINT_NAME).is_file():
        raise FileNotFoundError(
            f"--resume: {output_dir / PICKLED_CHECKPOINT_NAME} is a pickled checkpoint of an older version; it is not "
            "loaded, since a pickle can run code. Start without --resume, or convert it yourself if you trust it"
        )
    elif resume:
        raise FileNotFoundError(f"--resume given but {checkpoint} does not exist; start without --resume")
    stop = min(max_steps if max_steps is not None else settings.max_steps, settings.max_steps)
    (output_dir / "config.json").write_text(json.dumps(config.to_dict(), indent=2))

    # A resumed run draws fresh crops instead of replaying the first ones.
    crops = training_crops(config, seed=settings.seed + trainer.step_count)
    if not trainer.initialized:
        init_batch = next(batches(crops, config.quantizer.kmeans_init_crops))
        trainer.initialize_codebooks(init_batch)
    log = (output_dir / "log.jsonl").open("a")
    started, start_step = time.perf_counter(), trainer.step_count + 1
    for batch in batches(crops, settings.batch_size):
        if trainer.step_count >= stop:
            break
        metrics = trainer.step(batch)
        step = trainer.step_count
        metrics["seconds_per_step"] = (time.perf_counter() - started) / max(1, step - start_step)
        if step % settings.log_every == 0 or step == stop:
            log.write(json.dumps({"step": step, **metrics}) + "\n")
            log.flush()
        if on_step is not None:
            on_step(step, metrics)
        if step % settings.checkpoint_every == 0 or step == stop:
            save_checkpoint(trainer, output_dir)
        if step == start_step:
            started = time.perf_counter()  # leave the first step's warm-up out of the rate
    log.close()
    if trainer.step_count < settings.max_steps:
        return None
    final = output_dir / FINAL_NAME
    trainer.codec.eval()
    trainer.codec.save_pretrained(final)
    return final
