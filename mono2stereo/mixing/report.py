"""The placement report of a mix: a JSON file of what was done, and a picture of each stem's position over time."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .stem_mix import MixPlacement

REPORT_VERSION = 1


def report_dict(placements: Sequence[MixPlacement], stem_paths: dict[str, str] | None = None) -> dict:
    """The report: one entry per variant (style, seed, room, gain, and each stem's role, pan and positions)."""
    variants = [placement.to_dict() for placement in placements]
    for variant in variants:
        for stem in variant["stems"]:
            if stem_paths and stem["name"] in stem_paths:
                stem["path"] = stem_paths[stem["name"]]
    return {"report_version": REPORT_VERSION, "variants": variants}


def write_atomically(path: str | os.PathLike, write, overwrite: bool = False) -> None:
    """Call `write(temporary_path)` and rename the result to `path`; an existing `path` is kept unless `overwrite`."""
    path = os.fspath(path)
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{path} already exists; pass --overwrite (overwrite=True) to replace it")
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".mono2stereo-", suffix=os.path.splitext(path)[1])
    os.close(handle)
    try:
        write(temporary)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def write_report(
    path: str | os.PathLike,
    placements: Sequence[MixPlacement],
    stem_paths: dict[str, str] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write the placement report as JSON, atomically."""

    def write(temporary: str) -> None:
        with open(temporary, "w") as file:
            json.dump(report_dict(placements, stem_paths), file, indent=2)
            file.write("\n")

    write_atomically(path, write, overwrite)
    return Path(path)


def placement_figure(placements: Sequence[MixPlacement]):
    """One panel per variant: each stem's measured position (-1 left to 1 right) over time, one line per stem."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 1.2 + 2.6 * len(placements)), layout="constrained")
    axes_column = np.atleast_1d(figure.subplots(len(placements), 1, squeeze=False)[:, 0])
    for axes, placement in zip(axes_column, placements):
        for stem in placement.stems:
            positions = np.array([np.nan if value is None else value for value in stem.positions], dtype=float)
            times = (np.arange(positions.shape[0]) + 0.5) * placement.position_frame_seconds
            label = f"{stem.name} ({stem.role}, pan {stem.pan:+.2f}{', upmixed' if stem.upmixed else ''})"
            axes.plot(times, positions, linewidth=1.8, label=label)
        axes.axhline(0.0, color="#94a3b8", linewidth=0.8, zorder=0)
        axes.set(ylim=(-1.08, 1.08), yticks=[-1, -0.5, 0, 0.5, 1], yticklabels=["L", "", "C", "", "R"])
        axes.set_ylabel("position")
        axes.set_title(
            f"{placement.style} · seed {placement.seed} · peak gain {placement.peak_gain:.3f}", loc="left", fontsize=10
        )
        axes.grid(True, alpha=0.3)
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    axes_column[-1].set_xlabel("time (s)")
    figure.suptitle("Where each stem sits: measured position over time (blank: the stem is silent)")
    return figure


def write_picture(path: str | os.PathLike, placements: Sequence[MixPlacement], overwrite: bool = False) -> Path:
    """Draw `placement_figure` to a PNG file, atomically."""
    figure = placement_figure(placements)
    write_atomically(path, lambda temporary: figure.savefig(temporary, dpi=100, format="png"), overwrite)
    return Path(path)


__all__ = ["placement_figure", "report_dict", "write_atomically", "write_picture", "write_report"]
