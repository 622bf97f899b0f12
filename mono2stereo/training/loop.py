"""The training loop on `accelerate`: one process or many, mixed precision, exact resume.

    mono2stereo train --config configs/train/tiny-cpu.yaml --output-dir runs/tiny
    accelerate launch --config_file configs/accelerate/ddp.yaml -m mono2stereo train \
        --config configs/train/base-encodec32k.yaml --output-dir runs/base --resume latest

Each process reads its own shards of the stream endlessly (its epochs are its own), so all processes take the same
number of optimizer steps whatever their shard sizes. A checkpoint holds accelerate's state (model, optimizer,
scheduler, random states) plus each process's step, epoch and batches read; resuming restores them and skips the
batches already read, which gives the same batches since the stream is a fixed function of (seed, epoch).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from .checkpoints import CheckpointFolder, TrainingProgress
from .config import TrainingConfig
from .model_loading import build_model
from .preprocessing import CodecEncoder
from .spatial_eval import spatial_metrics
from .stream import TrainingStream
from .wrapping import unwrap

logger = logging.getLogger("mono2stereo")
ExtraMetrics = Callable[[torch.nn.Module, dict], dict[str, float]]


@dataclass
class TrainingResult:
    """What a run leaves behind besides its files."""

    model: torch.nn.Module  # unwrapped
    accelerator: object
    step: int
    losses: list[float] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)
    examples_per_second: float = 0.0
    tokens_per_second: float = 0.0
    eval_metrics: dict[str, float] = field(default_factory=dict)  # the last periodic eval's


def report_to(setting: list[str] | str) -> list[str]:
    """Trackers to log to: `auto` is tensorboard, plus wandb when it is installed."""
    if setting == "auto":
        return ["tensorboard"] + (["wandb"] if importlib.util.find_spec("wandb") else [])
    return [setting] if isinstance(setting, str) else list(setting)


def make_accelerator(config: TrainingConfig, output_dir: str):
    """An `Accelerator` for this config: trackers, mixed precision, step-counted gradient accumulation."""
    from accelerate import Accelerator
    from accelerate.utils import DataLoaderConfiguration, GradientAccumulationPlugin, ProjectConfiguration

    trackers = [name for name in report_to(config.report_to) if name != "none"]
    return Accelerator(
        mixed_precision=config.mixed_precision,
        # Step-counted only: processes may reach the end of their shards at different batches.
        gradient_accumulation_plugin=GradientAccumulationPlugin(
            num_steps=config.gradient_accumulation_steps, sync_with_dataloader=False
        ),
        log_with=trackers or None,
        project_config=ProjectConfiguration(project_dir=output_dir, logging_dir=os.path.join(output_dir, "logs")),
        step_scheduler_with_optimizer=False,  # the schedule counts optimizer steps, not processes x steps
        dataloader_config=DataLoaderConfiguration(dispatch_batches=False),
    )


def batch_codes(batch: dict, encoder: CodecEncoder) -> tuple[torch.Tensor, torch.Tensor]:
    """Mono and stereo codes of a batch: from token shards, or encoded here from audio."""
    if "mono_codes" in batch:
        return batch["mono_codes"], batch["stereo_codes"]
    return encoder(batch["audio"])


@torch.no_grad()
def evaluate(model, loader, encoder, accelerator, max_batches: int, extra_metrics: ExtraMetrics | None = None):
    """Held-out loss and per-codebook accuracy (means over batches); `extra_metrics` adds its own entries.

    `extra_metrics(model, batch)` returns more entries; `spatial_eval.spatial_metrics` (the config's `spatial_eval`)
    upmixes the batch and scores the stereo.
    """
    model.eval()
    sums: Counter = Counter()
    count = 0
    for number, batch in enumerate(loader):
        if number >= max_batches:
            break
        mono, stereo = batch_codes(batch, encoder)
        output = model(mono_codes=mono, stereo_codes=stereo, style_ids=batch["style_ids"], width_db=batch["width_db"])
        values = {"eval/loss": output.loss.detach().float()}
        for k, accuracy in enumerate(output.accuracy):
            values[f"eval/accuracy_codebook_{k}"] = accuracy.detach().float()
        if output.width_error_db is not None:  # a model with a width head: how far its widths are, in dB
            values["eval/width_head_error_db"] = output.width_error_db.float()
        if extra_metrics is not None:
            values.update({f"eval/{k}": torch.tensor(float(v)) for k, v in extra_metrics(model, batch).items()})
        for key, value in values.items():
            sums[key] += accelerator.reduce(value.to(accelerator.device), reduction="mean").item()
        count += 1
    model.train()
    return {key: value / max(count, 1) for key, value in sums.items()}


def train(
    config: TrainingConfig,
    output_dir: str,
    max_steps: int | None = None,
    resume: str | None = None,
    model: torch.nn.Module | None = None,
    extra_metrics: ExtraMetrics | None = None,
    show_progress: bool = True,
    save_model: bool = True,
) -> TrainingResult:
    """Train `model` (or the config's model) for `max_steps` optimizer steps; see the module docstring."""
    from accelerate.utils import set_seed

    max_steps = max_steps or config.max_steps
    if extra_metrics is None and config.spatial_eval:
        extra_metrics = spatial_metrics
    accelerator = make_accelerator(config, output_dir)
    set_seed(config.seed)  # the same initial weights on every process
    if model is None:
        model = build_model(config.model, seed=config.seed)
    run = TrainingRun.prepare(config, output_dir, accelerator, model, max_steps, extra_metrics, resume)
    ids_file = None
    if config.trace_ranks:
        ids_file = open(os.path.join(output_dir, f"trace-rank{accelerator.process_index}-ids.txt"), "a")
    run.bar = tqdm(
        total=max_steps,
        initial=run.progress.step,
        desc="training",
        disable=not (show_progress and accelerator.is_local_main_process),
    )
    run.started = time.perf_counter()
    while run.progress.step < max_steps:
        run.train_epoch(ids_file)
    run.bar.close()
    if ids_file is not None:
        ids_file.close()
    return run.finish(output_dir, save_model)


def training_loaders(config: TrainingConfig, model_config) -> tuple[TrainingStream, DataLoader, DataLoader | None]:
    """The training stream, its loader, and the held-out loader (None without `data.eval_sources`)."""
    stream = TrainingStream(config.data.sources, config.data, model_config, seed=config.seed)
    loader = DataLoader(
        stream.dataset(config.data.shuffle_buffer),
        batch_size=config.batch_size,
        collate_fn=stream.collate,
        drop_last=False,  # a data set smaller than a batch still trains, on smaller batches
        num_workers=config.num_workers,
        generator=torch.Generator().manual_seed(config.seed),  # keeps iter() from drawing on the global RNG
    )
    if not config.data.eval_sources:
        return stream, loader, None
    eval_stream = TrainingStream(config.data.eval_sources, config.data, model_config, seed=config.seed + 1)
    eval_loader = DataLoader(
        eval_stream.dataset(),
        batch_size=config.batch_size,
        collate_fn=eval_stream.collate,
        generator=torch.Generator().manual_seed(config.seed),
    )
    return stream, loader, eval_loader


def optimization(config: TrainingConfig, model: torch.nn.Module, max_steps: int) -> tuple[list, object, object]:
    """The trained parameters, AdamW over them, and the cosine schedule with warmup over `max_steps`."""
    from transformers import get_cosine_schedule_with_warmup

    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        parameters, lr=config.learning_rate, betas=tuple(config.adam_betas), weight_decay=config.weight_decay
    )
    scheduler = get_cosine_schedule_with_warmup(optimizer, min(config.warmup_steps, max_steps), max_steps)
    return parameters, optimizer, scheduler


@dataclass
class TrainingRun:
    """The objects the steps of one run share (prepared by accelerate) and what the run has measured so far."""

    config: TrainingConfig
    accelerator: object
    model: torch.nn.Module
    encoder: CodecEncoder
    stream: TrainingStream
    loader: DataLoader
    eval_loader: DataLoader | None
    parameters: list
    optimizer: object
    scheduler: object
    checkpoints: CheckpointFolder
    progress: TrainingProgress
    max_steps: int
    tokens_per_example: int  # stereo tokens in one training example
    extra_metrics: ExtraMetrics | None = None
    bar: object = None
    losses: list[float] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    examples_seen: int = 0
    started: float = 0.0
    small_data_noticed: bool = False

    @classmethod
    def prepare(
        cls,
        config: TrainingConfig,
        output_dir: str,
        accelerator,
        model: torch.nn.Module,
        max_steps: int,
        extra_metrics: ExtraMetrics | None,
        resume: str | None,
    ) -> TrainingRun:
        """Loaders, optimizer and schedule through `accelerator.prepare`, the checkpoint to resume from restored,
        and the trackers started."""
        model.train()
        model_config = unwrap(model, adapters=False).config
        encoder = CodecEncoder(unwrap(model, adapters=False)).to(accelerator.device)
        stream, loader, eval_loader = training_loaders(config, model_config)
        parameters, optimizer, scheduler = optimization(config, model, max_steps)
        model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
        if eval_loader is not None:
            eval_loader = accelerator.prepare(eval_loader)

        checkpoints = CheckpointFolder(os.path.join(output_dir, "checkpoints"), config.save_total_limit)
        progress = TrainingProgress()
        if accelerator.is_main_process:
            # the model's config first, so a checkpoint can be released while the run goes on
            unwrap(model, adapters=False).config.save_pretrained(output_dir)
            checkpoints.remove_partial()
            checkpoints.prune()  # a run killed between a checkpoint's commit and its prune left one too many
        accelerator.wait_for_everyone()
        path = checkpoints.resolve(resume, accelerator.num_processes) if resume else None
        if path is not None:
            accelerator.load_state(path)
            progress = TrainingProgress.load(path, accelerator.process_index)
        accelerator.init_trackers(
            config.project_name,
            config={"learning_rate": config.learning_rate, "batch_size": config.batch_size, "max_steps": max_steps},
        )
        tokens_per_example = model_config.num_stereo_codebooks * model_config.window_frames
        return cls(config, accelerator, model, encoder, stream, loader, eval_loader, parameters, optimizer,
                   scheduler, checkpoints, progress, max_steps, tokens_per_example, extra_metrics)  # fmt: skip

    def train_epoch(self, ids_file=None) -> None:
        """Train on the rest of the current epoch (all of it unless resumed mid-epoch), up to `max_steps`."""
        config, progress = self.config, self.progress
        self.stream.set_epoch(progress.epoch)
        self.loader.set_epoch(progress.epoch)
        resumed = progress.batches_in_epoch
        batches = self.accelerator.skip_first_batches(self.loader, resumed) if resumed else self.loader
        examples_in_epoch = config.batch_size if resumed else 0  # a resumed epoch was fuller
        for batch in batches:
            progress.batches_in_epoch += 1
            examples_in_epoch += len(batch["ids"])
            if ids_file is not None:
                ids_file.write("".join(f"{progress.epoch}\t{i}\n" for i in batch["ids"]))
            output = self.train_step(batch)
            if not self.accelerator.sync_gradients:
                continue
            self.after_step(output)
            if progress.step >= self.max_steps:
                return
        if progress.batches_in_epoch == 0:  # nothing survived decoding and filtering: another epoch cannot help
            raise self.stream.no_examples_error()
        if examples_in_epoch < config.batch_size and not self.small_data_noticed:
            self.small_data_noticed = True
            logger.warning(
                "mono2stereo: the data gives %d training examples per epoch, fewer than batch_size=%d; each "
                "step trains on %d (add files, or raise data.crops_per_example for fuller batches)",
                examples_in_epoch,
                config.batch_size,
                examples_in_epoch,
            )
        progress.epoch, progress.batches_in_epoch = progress.epoch + 1, 0

    def train_step(self, batch: dict):
        """Forward, backward and (once the gradients are accumulated) one optimizer step on `batch`."""
        accelerator = self.accelerator
        with accelerator.accumulate(self.model):
            mono, stereo = batch_codes(batch, self.encoder)
            output = self.model(
                mono_codes=mono, stereo_codes=stereo, style_ids=batch["style_ids"], width_db=batch["width_db"]
            )
            accelerator.backward(output.loss)
            if accelerator.sync_gradients and self.config.max_grad_norm:
                accelerator.clip_grad_norm_(self.parameters, self.config.max_grad_norm)
            self.optimizer.step()
            if accelerator.sync_gradients:
                self.scheduler.step()
            self.optimizer.zero_grad()
        self.examples_seen += len(batch["ids"])
        return output

    def after_step(self, output) -> None:
        """After an optimizer step: the progress bar, and as the config says the logs, the held-out eval and a
        checkpoint."""
        config, accelerator, progress = self.config, self.accelerator, self.progress
        progress.step += 1
        last = progress.step == self.max_steps
        loss = accelerator.reduce(output.loss.detach(), reduction="mean").item()
        self.losses.append(loss)
        rate = self.examples_per_second()
        self.bar.update(1)
        self.bar.set_postfix(loss=f"{loss:.3f}", examples_per_s=f"{rate:.1f}")
        if progress.step % config.log_every == 0 or last:
            logs = {"train/loss": loss, "train/learning_rate": self.scheduler.get_last_lr()[0]}
            logs.update({"train/examples_per_second": rate, "train/tokens_per_second": rate * self.tokens_per_example})
            logs.update({f"data/skipped_{reason}": count for reason, count in self.stream.skipped.items()})
            accelerator.log(logs, step=progress.step)
        if self.eval_loader is not None and (progress.step % config.eval_every == 0 or last):
            self.metrics = evaluate(
                self.model, self.eval_loader, self.encoder, accelerator, config.eval_batches, self.extra_metrics
            )
            accelerator.log(self.metrics, step=progress.step)
        if progress.step % config.save_every == 0:
            save_checkpoint(accelerator, self.checkpoints, progress)

    def examples_per_second(self) -> float:
        """Training examples per second over all processes since the run (or its resume) started."""
        elapsed = time.perf_counter() - self.started
        return self.examples_seen * self.accelerator.num_processes / max(elapsed, 1e-9)

    def finish(self, output_dir: str, save_model: bool) -> TrainingResult:
        """Wait for every process, save the final model (main process) and end the trackers."""
        examples_per_second = self.examples_per_second()
        accelerator = self.accelerator
        accelerator.wait_for_everyone()
        unwrapped = unwrap(self.model)  # LoRA adapters kept: finetune merges them
        if self.config.trace_ranks:
            with open(os.path.join(output_dir, f"trace-rank{accelerator.process_index}-weights.txt"), "w") as file:
                file.write(weights_digest(unwrapped) + "\n")
        if save_model and accelerator.is_main_process:
            save_final_model(unwrapped, output_dir, self.config)
        accelerator.end_training()
        return TrainingResult(
            unwrapped,
            accelerator,
            self.progress.step,
            self.losses,
            self.stream.skipped,
            examples_per_second,
            examples_per_second * self.tokens_per_example,
            self.metrics,
        )


def weights_digest(model: torch.nn.Module) -> str:
    """A SHA-256 of every parameter's bytes: equal digests mean equal weights."""
    digest = hashlib.sha256()
    for name, parameter in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(parameter.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def save_checkpoint(accelerator, checkpoints: CheckpointFolder, progress: TrainingProgress) -> str:
    """Write the state into a temporary folder, then rename it to `step-N` (so a kill never leaves half a one)."""
    temporary = checkpoints.temporary_path(progress.step)
    accelerator.save_state(temporary)
    progress.save(temporary, accelerator.process_index)
    accelerator.wait_for_everyone()
    path = checkpoints.path(progress.step)
    if accelerator.is_main_process:
        path = checkpoints.commit(progress.step)
    accelerator.wait_for_everyone()
    return path


def save_final_model(model, output_dir: str, config: TrainingConfig) -> None:
    """`save_pretrained` into the output folder and, when the config asks, push to the Hub."""
    model.save_pretrained(output_dir)
    if config.push_to_hub:
        hub_datasets = [source.path for source in config.data.sources if source.kind == "hub"]
        model.push_to_hub(config.hub_model_id, codec=config.model.codec, training_data=hub_datasets)


__all__ = ["train", "evaluate", "make_accelerator", "save_checkpoint", "TrainingResult", "report_to"]
