"""Checkpoint folders `output_dir/checkpoints/step-N`: written whole or not at all, the oldest pruned.

A checkpoint damaged after it was written (a truncated weight file, an empty optimizer state, a lost random state)
is found by `check_checkpoint` before anything is loaded from it, and `--resume latest` falls back to the newest
good one.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from dataclasses import asdict, dataclass, fields

_STEP = re.compile(r"^step-(\d+)$")
TEMPORARY_PREFIX = ".partial-"

logger = logging.getLogger("mono2stereo")


class DamagedCheckpoint(ValueError):
    """A checkpoint folder with a file missing or unreadable; the message names the file."""


@dataclass
class TrainingProgress:
    """Where one process is in training: optimizer steps done, its epoch, batches read in that epoch."""

    step: int = 0
    epoch: int = 0
    batches_in_epoch: int = 0

    def save(self, folder: str, rank: int) -> None:
        """Write this process's progress into a checkpoint folder."""
        with open(os.path.join(folder, f"progress-rank{rank}.json"), "w") as file:
            json.dump(asdict(self), file)

    @classmethod
    def load(cls, folder: str, rank: int) -> TrainingProgress:
        """Read one process's progress from a checkpoint folder."""
        path = os.path.join(folder, f"progress-rank{rank}.json")
        if not os.path.isfile(path):
            raise DamagedCheckpoint(
                f"{folder} has no progress for process {rank} ({os.path.basename(path)}); was it saved with as many "
                "processes?"
            )
        try:
            with open(path) as file:
                values = json.load(file)
            if not isinstance(values, dict) or set(values) != {f.name for f in fields(cls)}:
                raise ValueError(f"expected the keys step, epoch, batches_in_epoch, got {values!r:.80}")
            if not all(isinstance(v, int) and v >= 0 for v in values.values()):
                raise ValueError(f"expected counts >= 0, got {values!r:.80}")
        except (OSError, ValueError) as error:
            raise DamagedCheckpoint(f"{path} is damaged: {error}") from None
        return cls(**values)


def check_checkpoint(path: str, num_processes: int = 1) -> None:
    """Raise `DamagedCheckpoint` naming the first file of the checkpoint `path` that is missing or unreadable.

    Reads every file `accelerator.load_state` would read, the same way it reads them, so a checkpoint that passes
    loads; every process checks every process's files, so all of them choose the same checkpoint.
    """
    from accelerate.utils import load as load_state_file
    from safetensors import SafetensorError, safe_open

    names = sorted(os.listdir(path)) if os.path.isdir(path) else []
    if not names:
        raise DamagedCheckpoint(f"{path} is empty or missing")
    weights = [name for name in names if name.endswith(".safetensors")]
    if not weights:
        raise DamagedCheckpoint(f"{path} holds no model weights (model.safetensors)")
    for name in weights:
        try:
            with safe_open(os.path.join(path, name), "pt") as file:
                for key in file.keys():
                    file.get_slice(key)[:0]  # the header and every tensor's place in the file
        except (SafetensorError, OSError, ValueError, RuntimeError) as error:
            raise DamagedCheckpoint(f"{os.path.join(path, name)} is damaged: {error}") from None
    for rank in range(num_processes):
        TrainingProgress.load(path, rank)
        if f"random_states_{rank}.pkl" not in names:
            raise DamagedCheckpoint(
                f"{os.path.join(path, f'random_states_{rank}.pkl')} is missing: without the random state a resumed "
                "run would not repeat the uninterrupted one"
            )
    for name in names:
        if name.endswith((".bin", ".pkl")):
            try:
                load_state_file(os.path.join(path, name), map_location="cpu")  # weights only, as load_state does
            except Exception as error:  # torch raises several types for an empty, cut or foreign file
                raise DamagedCheckpoint(f"{os.path.join(path, name)} is damaged: {type(error).__name__}") from None


class CheckpointFolder:
    """The checkpoints of a run; `total_limit` keeps only the newest ones."""

    def __init__(self, folder: str, total_limit: int | None = None):
        self.folder, self.total_limit = folder, total_limit

    def steps(self) -> list[int]:
        """Steps of the complete checkpoints, oldest first."""
        if not os.path.isdir(self.folder):
            return []
        return sorted(int(m.group(1)) for name in os.listdir(self.folder) if (m := _STEP.match(name)))

    def path(self, step: int) -> str:
        """The folder of the checkpoint at `step`."""
        return os.path.join(self.folder, f"step-{step}")

    def temporary_path(self, step: int) -> str:
        """Where a checkpoint is written before it is renamed into place."""
        return os.path.join(self.folder, f"{TEMPORARY_PREFIX}step-{step}")

    def latest(self) -> str | None:
        """The newest complete checkpoint, or None."""
        steps = self.steps()
        return self.path(steps[-1]) if steps else None

    def resolve(self, resume: str, num_processes: int = 1) -> str | None:
        """The checkpoint to resume from: `latest` (the newest good one, None when there is none yet) or a folder.

        A damaged newest checkpoint is passed over with a warning; a named folder must be good.
        """
        if resume != "latest":
            if not os.path.isdir(resume):
                raise ValueError(f"checkpoint {resume!r} does not exist")
            check_checkpoint(resume, num_processes)
            return resume
        steps = self.steps()
        if not steps:
            logger.warning("mono2stereo: --resume latest: no checkpoint in %s yet; starting a new run", self.folder)
            return None
        problems = []
        for step in reversed(steps):
            try:
                check_checkpoint(self.path(step), num_processes)
            except DamagedCheckpoint as error:
                problems.append(str(error))
                logger.warning("mono2stereo: skipping a damaged checkpoint: %s", error)
                continue
            return self.path(step)
        raise ValueError(
            f"--resume latest: no good checkpoint in {self.folder} ({problems[0]}); delete the damaged ones to "
            "start again"
        )

    def remove_partial(self) -> None:
        """Delete checkpoints whose writing was interrupted."""
        if os.path.isdir(self.folder):
            for name in os.listdir(self.folder):
                if name.startswith(TEMPORARY_PREFIX):
                    shutil.rmtree(os.path.join(self.folder, name), ignore_errors=True)

    def prune(self) -> None:
        """Delete the oldest checkpoints beyond `total_limit`."""
        if self.total_limit:
            for old in self.steps()[: -self.total_limit]:
                shutil.rmtree(self.path(old), ignore_errors=True)

    def commit(self, step: int) -> str:
        """Rename a written checkpoint into place (atomic on one file system) and prune the oldest."""
        final = self.path(step)
        if os.path.isdir(final):
            shutil.rmtree(final)
        os.replace(self.temporary_path(step), final)
        self.prune()
        return final


__all__ = ["CheckpointFolder", "TrainingProgress", "DamagedCheckpoint", "check_checkpoint"]
