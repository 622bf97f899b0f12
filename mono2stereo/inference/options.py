"""The checks of upmix settings: one place for the command line, the Python API and the Space.

Each check raises a ValueError that names the setting (and its command-line option) with the value and the range it
must be in. The pipelines call `check_upmix_options` on every call; the CLI calls it before loading a model.
"""

from __future__ import annotations

import math
import numbers

MAX_WIDTH = 4.0  # side gain; 4 is +12 dB of side, far past any useful image (the Space's slider stops at 2)
MAX_TEMPERATURE = 5.0
MAX_GUIDANCE_SCALE = 20.0
MAX_TOP_K = 1 << 20
MAX_SEED = 2**63 - 1
MAX_VARIANTS = 256
MAX_BATCH_SIZE = 1024
MAX_WINDOW_SECONDS = 3600.0
TARGET_WIDTH_DB_RANGE = (-100.0, 40.0)
CHANNELS = ("mid", "left", "right")  # what a stereo input becomes before upmixing
# How a model's tokens are chosen: sampled, or for a spatial model sampled at a smooth random field of quantiles
# ("quantile"), the cue nearest to the expected one ("mean"), or the level differences so and the coherences sampled
# ("mean-level").
DECODINGS = ("sample", "mean", "mean-level", "mean-magnitude", "median", "quantile")
SAMPLED_DECODINGS = ("sample", "quantile")  # the decodings that draw tokens, so work with any tokenizer
MAX_QUANTILE_SECONDS = 60.0
# the statistic of the model's distribution each decoding but `sample` takes (`generation.decoded_tokens`)
DECODING_STATISTICS = {"mean": "mean", "mean-level": "mean", "mean-magnitude": "magnitude", "median": "median"}

FLAGS = {
    "width": "--width",
    "temperature": "--temperature",
    "guidance_scale": "--guidance-scale",
    "seed": "--seed",
    "num_variants": "--variants",
    "batch_size": "--batch-size",
    "window_seconds": "--window",
    "overlap_seconds": "--overlap",
    "channel": "--channel",
    "target_width_db": "--target-width-db",
}


def _named(name: str, value) -> str:
    return f"{name}={value!r}" + (f" ({FLAGS[name]})" if name in FLAGS else "")


def check_number(name: str, value, low: float, high: float, meaning: str = "") -> float:
    """`value` as a float, or a ValueError when it is not a finite number in [low, high]."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or not (low <= value <= high)
    ):
        raise ValueError(f"{_named(name, value)} must be a number from {low:g} to {high:g}{meaning}")
    return float(value)


def check_integer(name: str, value, low: int, high: int, meaning: str = "", allow_float: bool = False) -> int:
    """`value` as an int, or a ValueError when it is no integer in [low, high] (`allow_float`: 3.0 counts)."""
    given = value
    if allow_float and isinstance(value, numbers.Real) and not isinstance(value, (bool, numbers.Integral)):
        if math.isfinite(value) and float(value).is_integer():
            value = int(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not low <= value <= high:
        raise ValueError(f"{_named(name, given)} must be an integer from {low:,} to {high:,}{meaning}")
    return int(value)


def check_seed(seed) -> int | None:
    """The seed as an int, None for none; a ValueError when it is not an integer from 0 to 2**63 - 1."""
    return None if seed is None else check_integer("seed", seed, 0, MAX_SEED, allow_float=True)


def check_channel(channel: str) -> str:
    """`mid`, `left` or `right`: what a stereo input becomes before upmixing."""
    if channel not in CHANNELS:
        raise ValueError(f"{_named('channel', channel)} must be one of {', '.join(CHANNELS)}")
    return channel


def check_generation_settings(
    temperature: float | None = None,
    top_k: int | None = None,
    top_p: float | None = None,
    guidance_scale: float | None = None,
    decoding: str | None = None,
    target_width_db: float | None = None,
    quantile_seconds: float | None = None,
    quantile_band_correlation: float | None = None,
) -> None:
    """Raise a ValueError naming the first generation setting out of its range; None (not given) passes."""
    if decoding is not None and decoding not in DECODINGS:
        raise ValueError(f"{_named('decoding', decoding)} must be one of {', '.join(DECODINGS)}")
    if quantile_seconds is not None:
        check_number("quantile_seconds", quantile_seconds, 0.0, MAX_QUANTILE_SECONDS, " s (0: independent frames)")
    if quantile_band_correlation is not None:
        check_number("quantile_band_correlation", quantile_band_correlation, 0.0, 1.0)
    if target_width_db is not None:
        check_number("target_width_db", target_width_db, *TARGET_WIDTH_DB_RANGE, " dB")
    if temperature is not None:
        check_number("temperature", temperature, 0.0, MAX_TEMPERATURE, " (0 is greedy)")
    if guidance_scale is not None:
        check_number("guidance_scale", guidance_scale, 0.0, MAX_GUIDANCE_SCALE, " (1 turns guidance off)")
    if top_k is not None:
        check_integer("top_k", top_k, 0, MAX_TOP_K, " (0 keeps every token)")
    if top_p is not None:
        check_number("top_p", top_p, 0.0, 1.0, " (0 turns nucleus sampling off)")


def check_upmix_options(
    width: float = 1.0,
    temperature: float | None = None,
    guidance_scale: float | None = None,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int | None = None,
    num_variants: int = 1,
    batch_size: int | None = None,
    window_seconds: float | None = None,
    overlap_seconds: float | None = None,
    target_width_db: float | None = None,
    channel: str = "mid",
) -> None:
    """Raise a ValueError naming the first setting that is not a finite value in its range.

    The sampling settings (`temperature`, `guidance_scale`, `top_k`, `top_p`) are None when not given: the model's
    `generation_config.json` then supplies them (`modeling.generation_settings`), checked when it is read.
    """
    check_number("width", width, 0.0, MAX_WIDTH, " (0 gives dual mono, 1 the generated width)")
    check_generation_settings(temperature=temperature, top_k=top_k, top_p=top_p, guidance_scale=guidance_scale)
    check_seed(seed)
    check_integer("num_variants", num_variants, 1, MAX_VARIANTS)
    if batch_size is not None:  # None: the model's default (`Mono2StereoPipeline.default_batch_size`)
        check_integer("batch_size", batch_size, 1, MAX_BATCH_SIZE)
    for name, seconds in (("window_seconds", window_seconds), ("overlap_seconds", overlap_seconds)):
        if seconds is not None:
            check_number(name, seconds, 1e-6, MAX_WINDOW_SECONDS, " seconds")
    check_generation_settings(target_width_db=target_width_db)
    check_channel(channel)


__all__ = [
    "check_upmix_options",
    "check_generation_settings",
    "check_number",
    "check_integer",
    "check_seed",
    "check_channel",
    "CHANNELS",
    "DECODING_STATISTICS",
    "DECODINGS",
    "SAMPLED_DECODINGS",
]
