"""Sampling stereo codes from a `Mono2StereoModel`, one delayed position at a time."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from .delay_pattern import delay_positions, delayed_length, revert_delay_pattern
from .layers import KVCache


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
) -> torch.Tensor:
    """Draw one token per row of `logits (..., vocabulary)`; `temperature=0` is greedy."""
    if temperature <= 0:
        return logits.argmax(-1)
    logits = filter_logits(logits.float() / temperature, top_k, top_p)
    # Inverse-CDF sampling: exact, and much faster on CPU than torch.multinomial for many small rows.
    cumulative = logits.softmax(-1).reshape(-1, logits.shape[-1]).cumsum(-1)
    uniform = torch.rand(cumulative.shape[0], 1, generator=generator, device=logits.device) * cumulative[:, -1:]
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
) -> torch.Tensor:
    """Generate stereo codes `(batch, stereo_codebooks, frames)` for the mono conditioning `(batch, rows, frames)`
    (`model.encode_mono`: mono codes, or a spatial model's mono features).

    Each batch row is one window. `prefix_codes (batch, 2 * codebooks, P)` fixes the stereo codes of the first P
    frames (the end of the previous window) and generation continues from there. With `guidance_scale` != 1 the
    style and width conditioning is strengthened by classifier-free guidance. Pass `seed` or `generator` for
    reproducible samples; `temperature=0` is greedy. With `token_values (stereo_codebooks, vocabulary)`, the value
    each token stands for (a spatial codec's cue grids), every position takes the token nearest to the expected
    value under the model's distribution instead of a sample: mean decoding, the estimate a regression model with
    the same network would make. Returns codes in the undelayed layout. A sampling setting left at None comes
    from the model's `generation_settings` (its `generation_config.json`).
    """
    config = model.config
    sampling = model.generation_settings.with_overrides(
        temperature=temperature, top_k=top_k, top_p=top_p, guidance_scale=guidance_scale
    )
    temperature, top_k, top_p = sampling["temperature"], sampling["top_k"], sampling["top_p"]
    guidance_scale = sampling["guidance_scale"]
    if mono_codes.dim() != 3 or mono_codes.shape[1] != config.num_mono_channels:
        raise ValueError(
            f"mono_codes must be (batch, {config.num_mono_channels}, frames), got {tuple(mono_codes.shape)}"
        )
    if seed is not None and generator is not None:
        raise ValueError("pass either seed or generator, not both")
    if temperature < 0 or top_k < 0 or not 0.0 <= top_p <= 1.0:
        raise ValueError(f"invalid sampling settings: temperature={temperature}, top_k={top_k}, top_p={top_p}")
    device = mono_codes.device
    batch, num_frames = mono_codes.shape[0], mono_codes.shape[-1]
    num_prefix = 0 if prefix_codes is None else prefix_codes.shape[-1]
    if prefix_codes is not None and (
        prefix_codes.shape[:2] != (batch, config.num_stereo_codebooks) or num_prefix > num_frames
    ):
        raise ValueError(
            f"prefix_codes {tuple(prefix_codes.shape)} must be ({batch}, {config.num_stereo_codebooks}, P) "
            f"with P <= {num_frames} frames"
        )
    if seed is not None:
        generator = torch.Generator(device=device).manual_seed(seed)

    style_ids = style_ids_for(model, style, batch)
    if width_db is not None and not torch.is_tensor(width_db):
        width_db = torch.full((batch,), float(width_db))
    style_ids, width_db = model.conditioning_inputs(batch, device, style_ids, width_db)
    guided = guidance_scale != 1.0
    mono = mono_codes
    if guided:  # the second half of the batch is unconditional on style and width
        unconditional_ids, unconditional_width = model.conditioning_inputs(batch, device, None, None)
        style_ids = torch.cat([style_ids, unconditional_ids])
        width_db = torch.cat([width_db, unconditional_width])
        mono = torch.cat([mono_codes, mono_codes])

    delays, special = model.delays, config.special_token_id
    length = delayed_length(num_frames, delays)
    frame = delay_positions(delays, length, device=device)  # (C, length): frame held by each position
    # Forced tokens: the special token where no frame is held, the prefix where the frame is in it.
    forced = (frame < 0) | (frame >= num_frames) | (frame < num_prefix)
    tokens = torch.full((batch, len(delays), length), special, dtype=torch.long, device=device)
    if num_prefix:
        for c, delay in enumerate(delays):
            tokens[:, c, delay : delay + num_prefix] = prefix_codes[:, c]

    condition = model.condition(style_ids, width_db)
    mono_states = model.aligned_mono_states(model.encode_condition(mono, condition), length)
    copy_tokens = model.mono_copy_tokens(mono)
    if config.channel_layout == "mid-side":  # the mid codebooks are the mono's own codes: set, not sampled
        mid = torch.zeros_like(forced)
        mid[0::2] = True
        fill = mid & ~forced
        tokens[:, fill] = copy_tokens[:batch][:, fill]
        forced = forced | mid
    rows = mono.shape[0]
    cache = None
    if use_cache:
        head_dim = config.hidden_size // config.num_attention_heads
        cache = KVCache(
            config.num_decoder_layers, rows, config.num_attention_heads, length, head_dim, like=mono_states
        )

    def inputs_up_to(position: int) -> torch.Tensor:
        shifted = F.pad(tokens[..., :position], (1, 0), value=special)  # input at t is the token at t - 1
        return torch.cat([shifted, shifted]) if guided else shifted

    # The first position to sample is the first one not forced; everything before it is known.
    start = int((~forced).any(0).nonzero()[0]) if (~forced).any() else length
    position = start
    while position < length:
        if cache is None:
            known = slice(0, position + 1)
            logits = model.decode_step(
                inputs_up_to(position), mono_states[:, known], condition, copy_tokens[..., known]
            )
        elif cache.length == 0:
            known = slice(0, position + 1)
            logits = model.decode_step(
                inputs_up_to(position), mono_states[:, known], condition, copy_tokens[..., known], cache
            )
        else:
            step_input = tokens[..., position - 1 : position]  # the input at t is the token at t - 1
            step_input = torch.cat([step_input, step_input]) if guided else step_input
            step = slice(position, position + 1)
            logits = model.decode_step(step_input, mono_states[:, step], condition, copy_tokens[..., step], cache)
        logits = logits[:, :, -1]  # (rows, C, vocabulary)
        if guided:
            conditional, unconditional = logits.float().chunk(2)
            logits = unconditional + guidance_scale * (conditional - unconditional)
        if token_values is not None:
            expected = (logits.float().softmax(-1) * token_values).sum(-1, keepdim=True)
            sampled = (token_values - expected).abs().argmin(-1)
        else:
            sampled = sample_tokens(logits, temperature, top_k, top_p, generator)
        tokens[:, :, position] = torch.where(forced[:, position], tokens[:, :, position], sampled)
        position += 1
    return revert_delay_pattern(tokens, delays)


__all__ = ["filter_logits", "sample_tokens", "generate_stereo_codes"]
