"""Checkpoint folders `output_dir/checkpoints/step-N`: written whole or not at all, the oldest pruned."""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import asdict, dataclass

_STEP = re.compile(r"^step-(\d+)$")
TEMPORARY_PREFIX = ".partial-"


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
            raise ValueError(f"{folder} has no progress for process {rank}; was it saved with as many processes?")
        with open(path) as file:
            return cls(**json.load(file))


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

    def resolve(self, resume: str) -> str:
        """`latest` or a checkpoint folder, checked to exist."""
        path = self.latest() if resume == "latest" else resume
        if path is None:
            raise ValueError(f"--resume latest: no checkpoint in {self.folder}; start without --resume")
        if not os.path.isdir(path):
            raise ValueError(f"checkpoint {path!r} does not exist")
        return path

    def remove_partial(self) -> None:
        """Delete checkpoints whose writing was interrupted."""
        if os.path.isdir(self.folder):
            for name in os.listdir(self.folder):
                if name.startswith(TEMPORARY_PREFIX):
                    shutil.rmtree(os.path.join(self.folder, name), ignore_errors=True)

    def commit(self, step: int) -> str:
        """Rename a written checkpoint into place (atomic on one file system) and prune the oldest."""
        final = self.path(step)
        if os.path.isdir(final):
            shutil.rmtree(final)
        os.replace(self.temporary_path(step), final)
        if self.total_limit:
            for old in self.steps()[: -self.total_limit]:
                shutil.rmtree(self.path(old), ignore_errors=True)
        return final


__all__ = ["CheckpointFolder", "TrainingProgress"]
