"""Working through a catalogue of files, on one process or on several started by `accelerate launch`.

accelerate launch -m mono2stereo upmix album/ -o out/        # one process per GPU (see `accelerate config`)
ACCELERATE_USE_CPU=true accelerate launch --multi_gpu --num_processes 2 -m mono2stereo upmix album/ -o out/

Started by `accelerate launch` with more than one process (`WORLD_SIZE` > 1), every process plans the same jobs,
waits until all have planned (so no process takes another's fresh output for an existing file), and works on its
share (`PartialState().split_between_processes`) on its own device. The main process shows the one progress bar
and, at the end, the failures of every process and a summary. A file that fails is reported and the others go on.
A plain `mono2stereo upmix` runs on one process, as always.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

from tqdm.auto import tqdm

Job = TypeVar("Job")


def launched_processes() -> int:
    """How many processes `accelerate launch` (or torchrun) started; 1 for a plain command."""
    try:
        return max(1, int(os.environ.get("WORLD_SIZE", "1")))
    except ValueError:
        return 1


def process_state():
    """accelerate's `PartialState` when several processes were launched, else None."""
    if launched_processes() <= 1:
        return None
    try:
        from accelerate import PartialState
        from accelerate.utils import parse_flag_from_env
    except ImportError:
        raise ValueError(
            "several processes were launched but accelerate is not installed; pip install accelerate"
        ) from None
    import torch

    # PartialState reads no ACCELERATE_USE_CPU itself; without it, processes on a machine with no GPU would not join
    return PartialState(cpu=parse_flag_from_env("ACCELERATE_USE_CPU") or not torch.cuda.is_available())


def process_device() -> str | None:
    """This process's device when several were launched (cuda:LOCAL_RANK, or cpu), else None (the default)."""
    state = process_state()
    return None if state is None else str(state.device)


def is_quiet_process() -> bool:
    """True on every process but the main one when several were launched: they show no progress bars."""
    state = process_state()
    return state is not None and not state.is_main_process


def run_jobs(
    jobs: Sequence[Job], work: Callable[[Job], str | None], desc: str, unit: str = "file"
) -> tuple[list[str], bool]:
    """Run `work(job)` (the error line, or None) for every job; returns (the errors of all processes, is main).

    Errors are shown as they happen on the main process; with several processes, those of the others follow at
    the end with a summary line.
    """
    state = process_state()
    if state is None:
        failures = []
        for job in tqdm(jobs, desc=desc, unit=unit, disable=None):
            error = work(job)
            if error is not None:
                failures.append(error)
                tqdm.write(f"mono2stereo: error: {error}", file=sys.stderr)
        return failures, True

    from accelerate.utils import gather_object

    state.wait_for_everyone()  # every process has planned its outputs before any is written
    own = []
    with state.split_between_processes(list(jobs)) as share:
        title = f"{desc} ({len(jobs)} on {state.num_processes} processes; this bar: process 0)"
        for job in tqdm(share, desc=title, unit=unit, disable=None if state.is_main_process else True):
            error = work(job)
            if error is not None:
                own.append(error)
                if state.is_main_process:
                    tqdm.write(f"mono2stereo: error: {error}", file=sys.stderr)
    everyone = gather_object([(state.process_index, error) for error in own])
    if state.is_main_process:
        for index, error in everyone:
            if index != state.process_index:
                print(f"mono2stereo: error: {error} (process {index})", file=sys.stderr)
        print(
            f"mono2stereo: {desc}: {len(jobs) - len(everyone)} of {len(jobs)} done on {state.num_processes} processes",
            file=sys.stderr,
        )
    state.wait_for_everyone()  # no process ends (and has the launcher stop the others) before the summary is out
    # the process group's threads are stopped here, in order: left to the interpreter's exit, they sometimes abort
    # a process that has done all its work ("terminate called without an active exception")
    state.destroy_process_group()
    return [error for _, error in everyone], state.is_main_process


__all__ = ["is_quiet_process", "launched_processes", "process_device", "process_state", "run_jobs"]
