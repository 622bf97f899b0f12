"""Figures of an evaluation: per-band cues of each system against the reference, and the stereo field of a track."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ..audio import mid_side
from .evaluate import REFERENCE, BandProfile, EvaluationResult
from .metrics import SpatialCues, pan_position, stereo_width_db

PAN_BINS = 41
GONIOMETER_POINTS = 200_000  # samples drawn at most; longer audio is decimated
GONIOMETER_BINS = 160


def _mean_profile(profiles: list[BandProfile], centres_hz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over tracks of |ILD| and coherence per band, on the band centres of the first reference."""
    level, coherence = [], []
    for profile in profiles:
        for values, into in ((profile.abs_level_difference_db, level), (profile.coherence, coherence)):
            known = np.isfinite(values)
            into.append(np.interp(np.log(centres_hz), np.log(profile.centres_hz[known]), values[known]))
    return np.mean(level, axis=0), np.mean(coherence, axis=0)


def plot_band_cues(result: EvaluationResult, path: str | Path) -> Path:
    """Per ERB band, mean |level difference| and coherence of each system and the reference, averaged over tracks."""
    centres = result.band_profiles[REFERENCE][0].centres_hz
    figure = Figure(figsize=(12, 4.8), layout="constrained")
    level_axes, coherence_axes = figure.subplots(1, 2)
    systems = [REFERENCE, *sorted(name for name in result.band_profiles if name != REFERENCE)]
    for system in systems:
        level, coherence = _mean_profile(result.band_profiles[system], centres)
        style = {"color": "black", "linewidth": 2.5, "zorder": 3} if system == REFERENCE else {"linewidth": 1.5}
        level_axes.plot(centres, level, label=system, **style)
        coherence_axes.plot(centres, coherence, label=system, **style)
    tracks = len(result.band_profiles[REFERENCE])
    level_axes.set(ylabel="mean |ILD| (dB)", title="Inter-channel level difference per band")
    coherence_axes.set(ylabel="mean coherence", ylim=(0, 1.02), title="Inter-channel coherence per band")
    for axes in (level_axes, coherence_axes):
        axes.set_xscale("log")
        axes.set_xlabel("band centre frequency (Hz)")
        axes.grid(True, which="both", alpha=0.3)
    coherence_axes.legend(loc="lower left", fontsize="small")
    figure.suptitle(f"Spatial cues per ERB band, energy-weighted, mean over {tracks} track(s)")
    figure.savefig(path, dpi=110)
    return Path(path)


def _band_edges(cues: SpatialCues) -> np.ndarray:
    return np.concatenate([cues.bands.lower_hz, cues.bands.upper_hz[-1:]])


def pan_histogram(cues: SpatialCues) -> np.ndarray:
    """Energy per band over `PAN_BINS` pan positions from -1 to 1, each band scaled to its maximum."""
    pan = pan_position(cues)
    edges = np.linspace(-1.0, 1.0, PAN_BINS + 1)
    histogram = np.zeros((cues.bands.num_bands, PAN_BINS))
    for band in range(cues.bands.num_bands):
        active = cues.active[band]
        histogram[band], _ = np.histogram(pan[band, active], bins=edges, weights=cues.energy[band, active])
    peaks = histogram.max(axis=1, keepdims=True)
    return np.divide(histogram, peaks, out=np.zeros_like(histogram), where=peaks > 0)


ROW_LABEL_WIDTH = 22  # characters per line of a row label, so a long system name cannot run into the next row


def row_label(name: str) -> str:
    """A system name as a row label: a path by its last two parts, wrapped to lines of `ROW_LABEL_WIDTH`."""
    parts = [part for part in name.replace("\\", "/").split("/") if part]
    short = "/".join(parts[-2:]) if len(parts) > 2 else name
    if short != name:
        short = ".../" + short
    return "\n".join(textwrap.wrap(short, ROW_LABEL_WIDTH, break_on_hyphens=False)[:3]) or name


def stereo_field_figure(cues_by_name: Mapping[str, SpatialCues], title: str) -> Figure:
    """One row per signal: energy over pan position per band (left) and the pan of each band over time (right)."""
    names = list(cues_by_name)
    figure = Figure(figsize=(13, 1.0 + 2.1 * len(names)), layout="constrained")
    axes_grid = np.atleast_2d(figure.subplots(len(names), 2, sharey=True, squeeze=False))
    pan_edges = np.linspace(-1.0, 1.0, PAN_BINS + 1)
    for row, name in enumerate(names):
        cues = cues_by_name[name]
        band_edges = _band_edges(cues)
        histogram_axes, time_axes = axes_grid[row]
        energy_mesh = histogram_axes.pcolormesh(
            pan_edges, band_edges, pan_histogram(cues), cmap="magma", vmin=0.0, vmax=1.0
        )
        pan = np.where(cues.active, pan_position(cues), np.nan)
        time_edges = np.arange(cues.energy.shape[1] + 1) * cues.tile_seconds
        pan_mesh = time_axes.pcolormesh(time_edges, band_edges, pan, cmap="coolwarm", vmin=-1.0, vmax=1.0)
        histogram_axes.set_ylabel(f"{row_label(name)}\nfrequency (Hz)", fontsize=9)
        histogram_axes.set_yscale("log")
        for axes in (histogram_axes, time_axes):
            axes.label_outer()
    axes_grid[-1, 0].set_xlabel("pan position (-1 left, 0 centre, 1 right)")
    axes_grid[-1, 1].set_xlabel("time (s)")
    axes_grid[0, 0].set_title("Energy over pan position per band (each band scaled to its peak)")
    axes_grid[0, 1].set_title("Pan position over time (blank: silent tiles)")
    figure.colorbar(energy_mesh, ax=axes_grid[:, 0], label="relative energy", shrink=0.6)
    figure.colorbar(pan_mesh, ax=axes_grid[:, 1], label="pan position", shrink=0.6)
    figure.suptitle(title)
    return figure


def plot_stereo_field(result: EvaluationResult, path: str | Path) -> Path:
    """For one track: where energy sits in pan per band (left column) and the pan of each band over time (right)."""
    systems = [REFERENCE, *sorted(name for name in result.field_cues if name != REFERENCE)]
    figure = stereo_field_figure(
        {system: result.field_cues[system] for system in systems}, f"Stereo field of {result.field_track!r}"
    )
    figure.savefig(path, dpi=100)
    return Path(path)


def goniometer_points(stereo: np.ndarray, max_points: int = GONIOMETER_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Goniometer coordinates of `(n, 2)` audio: side `(R - L) / sqrt 2` across, mid `(L + R) / sqrt 2` up."""
    stereo = np.asarray(stereo, dtype=np.float64)
    if stereo.ndim != 2 or stereo.shape[1] != 2:
        raise ValueError(f"a goniometer needs stereo audio shaped (num_samples, 2), got shape {stereo.shape}")
    step = max(1, -(-stereo.shape[0] // max_points))
    mid, side = mid_side(stereo[::step])
    return -np.sqrt(2.0) * side, np.sqrt(2.0) * mid


def _draw_goniometer(axes, side: np.ndarray, mid: np.ndarray, scale: float, title: str) -> None:
    """A density goniometer on `axes`: M up, S across, L and R on the diagonals, all scaled by `scale`."""
    limit = 1.05
    edges = np.linspace(-limit, limit, GONIOMETER_BINS + 1)
    density, _, _ = np.histogram2d(side / scale, mid / scale, bins=(edges, edges))
    shown = np.log1p(density.T)
    axes.imshow(
        np.ma.masked_equal(shown, 0.0),
        extent=(-limit, limit, -limit, limit),
        origin="lower",
        cmap="viridis",
        interpolation="bilinear",
    )
    axes.set_facecolor("#0f172a")
    guide = {"color": "#94a3b8", "linewidth": 0.6, "alpha": 0.6}
    axes.plot([-1, 1], [-1, 1], **guide)
    axes.plot([-1, 1], [1, -1], **guide)
    axes.axvline(0.0, **guide)
    axes.axhline(0.0, **guide)
    for text, x, y in (("M", 0.0, 0.96), ("L", -0.9, 0.9), ("R", 0.9, 0.9), ("+S", 0.96, 0.03), ("-S", -0.96, 0.03)):
        axes.text(x, y, text, color="#e2e8f0", ha="center", va="center", fontsize=10, fontweight="bold")
    axes.set(xlim=(-limit, limit), ylim=(-limit, limit), aspect="equal", xticks=[], yticks=[], title=title)


def goniometer_figure(stereo_by_name: Mapping[str, np.ndarray]) -> Figure:
    """Side-by-side goniometers (Lissajous, M/S rotated 45 degrees) of `(n, 2)` signals on one common scale.

    A mono signal is a vertical line; a wide mix spreads sideways. Each title gives the L/R correlation and the
    side-to-mid energy ratio.
    """
    points = {name: goniometer_points(stereo) for name, stereo in stereo_by_name.items()}
    peak = max((float(np.max(np.hypot(side, mid))) for side, mid in points.values() if side.size), default=0.0)
    scale = peak if peak > 0 else 1.0
    figure = Figure(figsize=(3.4 * len(points), 3.9), layout="constrained")
    axes_row = np.atleast_1d(figure.subplots(1, len(points), squeeze=False)[0])
    for axes, (name, stereo) in zip(axes_row, stereo_by_name.items()):
        side, mid = points[name]
        title = f"{name}\ncorrelation {stereo_correlation(stereo):+.2f} · width {stereo_width_db(stereo):.1f} dB"
        _draw_goniometer(axes, side, mid, scale, title)
    return figure


def stereo_correlation(stereo: np.ndarray) -> float:
    """Pearson correlation of L and R: +1 mono, 0 unrelated, -1 out of phase (1.0 for silence)."""
    stereo = np.asarray(stereo, dtype=np.float64)
    left, right = stereo[:, 0], stereo[:, 1]
    denominator = np.sqrt(np.sum(left**2) * np.sum(right**2))
    return float(np.sum(left * right) / denominator) if denominator > 0 else 1.0
