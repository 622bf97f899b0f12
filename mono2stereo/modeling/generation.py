"""Sampling stereo codes from a `Mono2StereoModel`, one delayed position at a time."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING

import torch

from .delay_pattern import apply_delay_pattern, delay_positions, delayed_length, revert_delay_pattern
from .layers import KVCache

if TYPE_CHECKING:
    from .model import DecoderContext


def filter_logits(logits: torch.Tensor, top_k: int = 0, top_p: float = 0.0) -> torch.Tensor:
    """Keep the `top_k` most likely tokens and the smallest set whose probability reaches `top_p` (0 = off)."""
    if top_k and top_k < logits.shape[-1]:
        threshold = logits.topk(top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < threshold, float("-inf"))
    if 0.0 < top_p < 1.0:
        sorted_logits, order = logits.sort(dim=-1, descending=True)
        cumulative = sorted_logits.softmax(-1).cumsum(-1)
        remove = cumulative - sorted_logits.softmax(-1) >= top_p  # keeps the token that crosses top_p
        logits = logits.masked_fill(remove.scatter(-1, order, remove), float("-inf"))
    return logits


def sample_tokens(
    logits: torch.Tensor,
    temperature: float,
    top_k: int,
    top_p: float,
    generator: torch.Generator | None,
    quantiles: torch.Tensor | None = None,
) -> torch.Tensor:
    """Draw one token per row of `logits (..., vocabulary)`; `temperature=0` is greedy. With `quantiles (...)` in
    (0, 1), each row takes the token at its quantile instead of a uniform draw (`quantile_field`)."""
    if temperature <= 0:
        return logits.argmax(-1)
    logits = filter_logits(logits.float() / temperature, top_k, top_p)
    # Inverse-CDF sampling: exact, and much faster on CPU than torch.multinomial for many small rows.
    cumulative = logits.softmax(-1).reshape(-1, logits.shape[-1]).cumsum(-1)
    if quantiles is None:
        uniform = torch.rand(cumulative.shape[0], 1, generator=generator, device=logits.device)
    else:
        uniform = quantiles.reshape(-1, 1).to(cumulative)
    uniform = uniform * cumulative[:, -1:]
    tokens = torch.searchsorted(cumulative, uniform, right=True).clamp_(max=logits.shape[-1] - 1)
    return tokens.view(logits.shape[:-1])


def style_ids_for(model, style: str | int | Sequence | torch.Tensor | None, batch: int) -> torch.Tensor | None:
    """Style ids `(batch,)` from a tag, an id, one per window, or None (unconditional)."""
    if style is None or torch.is_tensor(style):
        return style
    styles = [style] * batch if isinstance(style, (str, int)) else list(style)
    if len(styles) != batch:
        raise ValueError(f"{len(styles)} styles given for {batch} windows")
    return torch.tensor([s if isinstance(s, int) else model.config.style_id(s) for s in styles])


@torch.no_grad()
def generate_stereo_codes(
    model,
    mono_codes: torch.Tensor,
    style: str | int | Sequence | torch.Tensor | None = None,
    width_db: float | torch.Tensor | None = None,
    prefix_codes: torch.Tensor | None = None,
    temperature: float | None = None,
    top_k: int | None = None,
    top_p: float | None = None,
    guidance_scale: float | None = None,
    seed: int | None = None,
    generator: torch.Generator | None = None,
    use_cache: bool = True,
    token_values: torch.Tensor | None = None,
    statistic: str = "mean",
    quantiles: torch.Tensor | None = None,
) -> torch.Tensor:
    """Generate stereo codes `(batch, stereo_codebooks, frames)` for the mono conditioning `(batch, rows, frames)`
    (`model.encode_mono`: mono codes, or a spatial model's mono features).

    Each batch row is one window. `prefix_codes (batch, 2 * codebooks, P)` fixes the stereo codes of the first P frames
    (the end of the previous window) and generation continues from there. With `guidance_scale` != 1 the style and
    width conditioning is strengthened by classifier-free guidance. With `width_db` None, a model with a width head
    (`config.has_width_head`) asks for the width it predicts from each window's mono. Pass `seed` or `generator` for
    reproducible samples; `temperature=0` is greedy. With `token_values (stereo_codebooks, vocabulary)`, the value each
    token stands for (a spatial codec's cue grids), every position takes the token nearest to the expected value under
    the model's distribution instead of a sample: mean decoding, the estimate a regression model with the same network
    would make; codebooks whose row is NaN are sampled still. `statistic` says which value (see `decoded_tokens`):
    `mean`, `magnitude` (signed codebooks at their expected magnitude, on the likelier side) or `median`. With
    `quantiles (batch, stereo_codebooks, frames)` in (0, 1) (`quantile_field.window_quantiles`), the sampled tokens are
    taken at those quantiles of their distributions instead of drawn. Returns codes in the undelayed layout. A sampling
    setting left at None comes from the model's `generation_settings` (its `generation_config.json`).

    A model trained with every context token hidden (`config.context_free`) never read its own tokens, so all
    positions of a window are predicted in one pass of the decoder, from the mono and the conditions alone.
    """
    sampling = model.generation_settings.with_overrides(
        temperature=temperature, top_k=top_k, top_p=top_p, guidance_scale=guidance_scale
    )
    check_generation_inputs(model, mono_codes, prefix_codes, seed, generator, sampling)
    if seed is not None:
        generator = torch.Generator(device=mono_codes.device).manual_seed(seed)
    guided = sampling["guidance_scale"] != 1.0
    predict_width = None
    if width_db is None and model.config.has_width_head:  # the conditional rows ask for the head's width
        predict_width = torch.arange(mono_codes.shape[0] * (2 if guided else 1)) < mono_codes.shape[0]
    mono, style_ids, width_db = conditioning_rows(model, mono_codes, style, width_db, guided)
    context = model.decoder_context(mono, style_ids, width_db, predict_width=predict_width)
    tokens, forced = initial_tokens(model, mono_codes, prefix_codes, context.copy_tokens)
    if quantiles is not None:
        quantiles = delayed_quantiles(model, quantiles, mono_codes)
    pick = partial(pick_tokens, sampling=sampling, generator=generator, token_values=token_values, statistic=statistic)
    guidance_scale = sampling["guidance_scale"]
    if model.config.context_free:
        tokens = predict_positions(model, tokens, forced, context, guidance_scale, pick, quantiles)
    else:
        cache = empty_cache(model, mono.shape[0], tokens.shape[-1], context.mono_states) if use_cache else None
        tokens = sample_positions(model, tokens, forced, context, cache, guidance_scale, pick, quantiles)
    return revert_delay_pattern(tokens, model.delays)


def delayed_quantiles(model, quantiles: torch.Tensor, mono_codes: torch.Tensor) -> torch.Tensor:
    """Quantiles `(batch, C, frames)` in the delayed layout `(batch, C, length)`; positions holding no frame: 0.5."""
    expected = (mono_codes.shape[0], model.config.num_stereo_codebooks, mono_codes.shape[-1])
    if tuple(quantiles.shape) != expected:
        raise ValueError(f"quantiles {tuple(quantiles.shape)} must be {expected} (batch, stereo codebooks, frames)")
    return apply_delay_pattern(quantiles.to(mono_codes.device), model.delays, 0.5)


def guided_logits(logits: torch.Tensor, guidance_scale: float) -> torch.Tensor:
    """Classifier-free guidance: rows `[conditional; unconditional]` combined into one half (1 leaves them)."""
    if guidance_scale == 1.0:
        return logits
    conditional, unconditional = logits.float().chunk(2)
    return unconditional + guidance_scale * (conditional - unconditional)


def predict_positions(
    model,
    tokens: torch.Tensor,
    forced: torch.Tensor,
    context: DecoderContext,
    guidance_scale: float,
    pick: Callable[..., torch.Tensor],
    quantiles: torch.Tensor | None = None,
) -> torch.Tensor:
    """Fill the positions of `tokens (batch, C, length)` that are not `forced` in one decoder pass whose inputs are
    all the special token: a context-free model's (see `generate_stereo_codes`). `pick(logits, quantiles=...)` is
    `pick_tokens` with the call's decoding."""
    guided = guidance_scale != 1.0
    hidden = torch.full_like(tokens, model.config.special_token_id)
    logits = model.decode_step(
        torch.cat([hidden, hidden]) if guided else hidden,
        context.mono_states,
        context.condition,
        context.copy_tokens,
    )  # (rows, C, length, vocabulary)
    logits = guided_logits(logits, guidance_scale).transpose(1, 2)  # (batch, length, C, vocabulary)
    picked = pick(logits, quantiles=None if quantiles is None else quantiles.transpose(1, 2)).transpose(1, 2)
    return torch.where(forced, tokens, picked)


def check_generation_inputs(
    model,
    mono_codes: torch.Tensor,
    prefix_codes: torch.Tensor | None,
    seed: int | None,
    generator: torch.Generator | None,
    sampling: dict,
) -> None:
    """Raise a ValueError naming the first input of `generate_stereo_codes` that cannot be used."""
    config = model.config
    if mono_codes.dim() != 3 or mono_codes.shape[1] != config.num_mono_channels:
        raise ValueError(
            f"mono_codes must be (batch, {config.num_mono_channels}, frames), got {tuple(mono_codes.shape)}"
        )
    if seed is not None and generator is not None:
        raise ValueError("pass either seed or generator, not both")
    temperature, top_k, top_p = sampling["temperature"], sampling["top_k"], sampling["top_p"]
    if temperature < 0 or top_k < 0 or not 0.0 <= top_p <= 1.0:
        raise ValueError(f"invalid sampling settings: temperature={temperature}, top_k={top_k}, top_p={top_p}")
    batch, num_frames = mono_codes.shape[0], mono_codes.shape[-1]
    if prefix_codes is not None and (
        prefix_codes.shape[:2] != (batch, config.num_stereo_codebooks) or prefix_codes.shape[-1] > num_frames
    ):
        raise ValueError(
            f"prefix_codes {tuple(prefix_codes.shape)} must be ({batch}, {config.num_stereo_codebooks}, P) "
            f"with P <= {num_frames} frames"
        )


def conditioning_rows(
    model,
    mono_codes: torch.Tensor,
    style: str | int | Sequence | torch.Tensor | None,
    width_db: float | torch.Tensor | None,
    guided: bool,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The rows the decoder runs on: mono conditioning, style ids and widths; with guidance, a second half of the
    rows repeats the mono unconditionally (no style, no width)."""
    batch, device = mono_codes.shape[0], mono_codes.device
    style_ids = style_ids_for(model, style, batch)
    if width_db is not None and not torch.is_tensor(width_db):
        width_db = torch.full((batch,), float(width_db))
    style_ids, width_db = model.conditioning_inputs(batch, device, style_ids, width_db)
    if not guided:
        return mono_codes, style_ids, width_db
    unconditional_ids, unconditional_width = model.conditioning_inputs(batch, device, None, None)
    return (
        torch.cat([mono_codes, mono_codes]),
        torch.cat([style_ids, unconditional_ids]),
        torch.cat([width_db, unconditional_width]),
    )


def initial_tokens(
    model, mono_codes: torch.Tensor, prefix_codes: torch.Tensor | None, copy_tokens: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The delayed token grid `(batch, C, length)` before sampling, and which positions `(C, length)` are forced.

    Forced: the special token where a codebook holds no frame, the prefix where its frame is in it, and the
    codebooks the stereo codec fixes by the mono (`fixed_codebooks`: the mid's in the mid-side layout), which are
    the mono's own codes (`copy_tokens`): set, not sampled.
    """
    config, delays = model.config, model.delays
    batch, num_frames, device = mono_codes.shape[0], mono_codes.shape[-1], mono_codes.device
    num_prefix = 0 if prefix_codes is None else prefix_codes.shape[-1]
    length = delayed_length(num_frames, delays)
    frame = delay_positions(delays, length, device=device)  # (C, length): frame held by each position
    forced = (frame < 0) | (frame >= num_frames) | (frame < num_prefix)
    tokens = torch.full((batch, len(delays), length), config.special_token_id, dtype=torch.long, device=device)
    if num_prefix:
        for c, delay in enumerate(delays):
            tokens[:, c, delay : delay + num_prefix] = prefix_codes[:, c]
    fixed = model.stereo_codec.fixed_codebooks.to(device)
    if fixed.any():
        fixed = fixed[:, None].expand_as(forced)
        fill = fixed & ~forced
        tokens[:, fill] = copy_tokens[:batch][:, fill]
        forced = forced | fixed
    return tokens, forced


def empty_cache(model, rows: int, length: int, like: torch.Tensor) -> KVCache:
    """A KV cache for `rows` decoder rows of `length` delayed positions, in the dtype and device of `like`."""
    config = model.config
    head_dim = config.hidden_size // config.num_attention_heads
    return KVCache(config.num_decoder_layers, rows, config.num_attention_heads, length, head_dim, like=like)


def sample_positions(
    model,
    tokens: torch.Tensor,
    forced: torch.Tensor,
    context: DecoderContext,
    cache: KVCache | None,
    guidance_scale: float,
    pick: Callable[..., torch.Tensor],
    quantiles: torch.Tensor | None = None,
) -> torch.Tensor:
    """Fill the positions of `tokens (batch, C, length)` that are not `forced`, one delayed position at a time;
    `pick(logits, quantiles=...)` is `pick_tokens` with the call's decoding.

    Without a cache every step runs the decoder over all positions so far; with one, the first step fills it
    with the positions before the first sampled one and each later step feeds only the newest position.
    """
    guided = guidance_scale != 1.0
    length = tokens.shape[-1]
    free = ~forced
    # The first position to sample is the first one not forced; everything before it is known.
    start = int(free.any(0).nonzero()[0]) if free.any() else length
    tables = model.decoder_tables()
    for position in range(start, length):
        first = 0 if cache is None else cache.length  # the positions the decoder has not seen yet
        inputs = model.decoder_inputs(tokens, first, position)
        seen = slice(first, position + 1)
        logits = model.decode_step(
            torch.cat([inputs, inputs]) if guided else inputs,
            context.mono_states[:, seen],
            context.condition,
            context.copy_tokens[..., seen],
            cache,
            tables,
        )[:, :, -1]  # (rows, C, vocabulary)
        logits = guided_logits(logits, guidance_scale)
        picked = pick(logits, quantiles=None if quantiles is None else quantiles[:, :, position])
        tokens[:, :, position] = torch.where(forced[:, position], tokens[:, :, position], picked)
    return tokens


STATISTICS = ("mean", "magnitude", "median")  # the values `decoded_tokens` can take of a distribution


def expected_values(probabilities: torch.Tensor, token_values: torch.Tensor, magnitudes: bool) -> torch.Tensor:
    """The expected value `(..., C, 1)` of each codebook under `probabilities (..., C, vocabulary)`; with
    `magnitudes`, for signed codebooks the expected magnitude times the more likely sign (ties: positive)."""
    expected = (probabilities * token_values).sum(-1, keepdim=True)
    if not magnitudes:
        return expected
    signed = (token_values < 0).any(-1, keepdim=True)
    magnitude = (probabilities * token_values.abs()).sum(-1, keepdim=True)
    lean = (probabilities * token_values.sign()).sum(-1, keepdim=True)  # P(positive) - P(negative)
    return torch.where(signed, torch.where(lean >= 0, magnitude, -magnitude), expected)


def decoded_tokens(probabilities: torch.Tensor, token_values: torch.Tensor, statistic: str) -> torch.Tensor:
    """One token `(..., C)` per codebook standing for a statistic of its distribution `(..., C, vocabulary)`: the
    token nearest to the expected value (`mean`; `magnitude`, see `expected_values`), or the median token
    (`median`: the first whose cumulative probability reaches one half; the values of a codebook must not decrease
    along the vocabulary, as the cue grids do not). The median of a skewed distribution, such as a coherence's,
    is a value the model finds likely; its mean can lie where the model puts little weight."""
    if statistic == "median":
        below = (probabilities.cumsum(-1) < 0.5).sum(-1)
        return below.clamp(max=probabilities.shape[-1] - 1)
    if statistic not in STATISTICS:
        raise ValueError(f"statistic={statistic!r} must be one of {', '.join(STATISTICS)}")
    expected = expected_values(probabilities, token_values, statistic == "magnitude")
    return (token_values - expected).abs().nan_to_num(float("inf")).argmin(-1)


def pick_tokens(
    logits: torch.Tensor,
    sampling: dict,
    generator: torch.Generator | None,
    token_values: torch.Tensor | None,
    statistic: str = "mean",
    quantiles: torch.Tensor | None = None,
) -> torch.Tensor:
    """One token per row and codebook of `logits (..., C, vocabulary)`: sampled (at `quantiles (..., C)` when
    given), or with `token_values` a statistic of the model's distribution (mean decoding; see `decoded_tokens`);
    codebooks whose row of values is NaN stay sampled."""
    settings = (sampling["temperature"], sampling["top_k"], sampling["top_p"], generator, quantiles)
    if token_values is None:
        return sample_tokens(logits, *settings)
    decoded = decoded_tokens(logits.float().softmax(-1), token_values, statistic)
    sampled_rows = token_values[:, 0].isnan()
    if not sampled_rows.any():  # every codebook decoded: no draw, so nothing depends on the generator
        return decoded
    sampled = sample_tokens(logits, *settings)
    return torch.where(sampled_rows, sampled, decoded)


__all__ = ["filter_logits", "sample_tokens", "generate_stereo_codes"]
