"""`Mono2StereoModel`: a mono-conditioned decoder transformer over stereo tokens of one of two kinds.

EnCodec kind: the frozen codec turns audio into codes; a non-causal encoder reads the mono codes of a window
(full look-ahead) and a causal decoder predicts the stereo codes `[1L, 1R, 2L, 2R, ...]` (or M/S) in the paired
delay pattern. Spatial kind: the encoder reads log band energies of the full-resolution mono and the decoder
predicts one token per band and frame, the band's level difference and coherence (`spatial_codec`). Either way the
mono encoding is added at the same time position, plus a style embedding and a width control.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn
from transformers import EncodecModel
from transformers import initialization as init
from transformers.utils import ModelOutput

from ..audio import CHANNELS_FIRST, width_db
from .codec import decode_mono
from .configuration import Mono2StereoConfig
from .delay_pattern import apply_delay_pattern, delayed_length, valid_delay_mask
from .encodec_layouts import EncodecStereoCodec, stereo_codec_for
from .generation_settings import GenerationSettings
from .layers import KVCache, TransformerStack, sinusoidal_positions
from .pretrained import Mono2StereoPreTrainedModel
from .spatial_codec import SpatialCodec

COPY_BIAS_INIT = 5.0  # e^5 ~ 150: the mono's token starts far above any other of ~1000 near-equal logits


def stereo_width_db(audio: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Width control value of stereo audio `(..., 2, samples)`: side-to-mid energy ratio in dB, `(...)`."""
    return width_db(audio, CHANNELS_FIRST, eps=eps)


@dataclass
class Mono2StereoOutput(ModelOutput):
    """What `Mono2StereoModel.forward` returns.

    Args:
        loss: cross-entropy over the valid positions of the delayed stereo codes (padding carries no loss).
        logits: `(batch, stereo_codebooks, positions, codebook_size)` in the delayed layout.
        accuracy: `(stereo_codebooks,)` share of valid positions whose most likely token is the target.
        width_error_db: with a width head (`config.has_width_head`), the mean absolute error of its predicted
            width against the target's, in dB; its Huber loss, weighted by `config.width_head_weight`, is in `loss`.
    """

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    accuracy: torch.Tensor | None = None
    width_error_db: torch.Tensor | None = None


@dataclass
class DecoderContext:
    """What the decoder reads besides its own tokens, for every delayed position of a window (`decoder_context`)."""

    condition: torch.Tensor  # (batch, hidden): style and width
    mono_states: torch.Tensor  # (batch, positions, hidden): the encoded mono, aligned to the delayed positions
    copy_tokens: torch.Tensor  # (batch, stereo_codebooks, positions): the mono's own token at each position
    predicted_width_db: torch.Tensor | None = None  # (batch,): the width head's prediction; None without a head


class Mono2StereoModel(Mono2StereoPreTrainedModel):
    """Generates stereo codec tokens from mono ones; see the module docstring."""

    def __init__(self, config: Mono2StereoConfig):
        super().__init__(config)
        hidden, vocabulary = config.hidden_size, config.codebook_size + 1  # + the special token
        self.codec = SpatialCodec(config.codec) if config.is_spatial else EncodecModel(config.codec)
        self.codec.requires_grad_(False)
        self.delays = config.delays
        self.generation_settings = GenerationSettings()  # sampling defaults; from_pretrained reads the saved ones

        if config.is_spatial:  # the mono's features, one vector per frame
            self.mono_features = nn.Linear(config.num_mono_channels, hidden)
        else:
            self.mono_embeddings = nn.ModuleList(nn.Embedding(vocabulary, hidden) for _ in range(config.num_codebooks))
        self.stereo_embeddings = nn.ModuleList(
            nn.Embedding(vocabulary, hidden) for _ in range(config.num_stereo_codebooks)
        )
        self.style_embedding = nn.Embedding(len(config.styles) + 1, hidden)  # last row: unconditional
        self.width_projection = nn.Sequential(nn.Linear(1, hidden), nn.GELU(), nn.Linear(hidden, hidden))
        self.width_unconditional = nn.Parameter(torch.zeros(hidden))
        self.mono_encoder = TransformerStack(config, config.num_encoder_layers, causal=False)
        # Codebook c at position t predicts frame t - delay[c]: the projection sees the mono frames t - D .. t.
        self.mono_projection = nn.Conv1d(hidden, hidden, kernel_size=max(self.delays) + 1)
        # The copy prior: a bonus on the logit of the mono's own token (a centred source codes alike in L, R, M).
        self.copy_bias = nn.Parameter(torch.zeros(config.num_stereo_codebooks))
        self.decoder = TransformerStack(config, config.num_decoder_layers, causal=True)
        self.heads = nn.ModuleList(
            nn.Linear(hidden, config.codebook_size, bias=False) for _ in range(config.num_stereo_codebooks)
        )
        if config.has_width_head:  # the window's width from its pooled mono states
            self.width_head = nn.Sequential(
                nn.LayerNorm(hidden), nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, 1)
            )
        self.post_init()

    def _init_own_weights(self, std: float) -> None:
        """The unconditional width vector, and the copy prior at `COPY_BIAS_INIT`."""
        init.normal_(self.width_unconditional, mean=0.0, std=std)
        init.constant_(self.copy_bias, COPY_BIAS_INIT)

    def train(self, mode: bool = True) -> Mono2StereoModel:
        """Set training mode; the frozen codec always stays in eval mode."""
        super().train(mode)
        self.codec.eval()
        return self

    def num_transformer_parameters(self) -> int:
        """Parameters of the transformer alone, the codec not counted."""
        codec = {id(p) for p in self.codec.parameters()}
        return sum(p.numel() for p in self.parameters() if id(p) not in codec)

    # ----- what fine-tuning changes -----

    # LoRA adapters wrap the transformer's linear layers under these; the style embedding, which gains rows for new
    # styles, trains in full
    LORA_TARGET_PREFIXES: ClassVar[tuple[str, ...]] = ("mono_encoder", "decoder", "mono_projection", "heads")
    LORA_TRAINED_IN_FULL: ClassVar[tuple[str, ...]] = ("style_embedding", "width_head")

    def lora_target_modules(self) -> list[str]:
        """Names of the linear layers that LoRA adapters wrap (`LORA_TARGET_PREFIXES`)."""
        return [
            name
            for name, module in self.named_modules()
            if isinstance(module, nn.Linear) and name.startswith(self.LORA_TARGET_PREFIXES)
        ]

    @torch.no_grad()
    def add_style(self, tag: str, init_from: str | None = None) -> Mono2StereoModel:
        """Grow the style embedding by a row for `tag`, a copy of `init_from`'s row (default: the first style); the
        unconditional row stays last, so existing style ids keep their meaning."""
        styles = self.config.styles
        if tag in styles:
            raise ValueError(f"the model already has style {tag!r}; its styles are {', '.join(styles)}")
        source_row = self.config.style_id(init_from or styles[0])
        old = self.style_embedding.weight
        rows = torch.cat([old[:-1], old[source_row : source_row + 1], old[-1:]])  # [..., new, unconditional]
        embedding = nn.Embedding(rows.shape[0], rows.shape[1], device=old.device, dtype=old.dtype)
        embedding.weight.copy_(rows)
        self.style_embedding = embedding
        self.config.styles = list(styles) + [tag]
        return self

    # ----- audio <-> codes through the frozen codec -----

    @property
    def stereo_codec(self) -> EncodecStereoCodec | SpatialCodec:
        """What the tokens mean, on the frozen codec: the channel layout's `EncodecStereoCodec` or the
        `SpatialCodec`."""
        return stereo_codec_for(self.config, self.codec)

    def encode_mono(self, audio: torch.Tensor) -> torch.Tensor:
        """Mono audio `(batch, samples)` at `config.sampling_rate` to the model's conditioning
        `(batch, config.num_mono_channels, frames)`: codes (EnCodec kind) or features (spatial kind)."""
        return self.stereo_codec.encode_mono(audio)

    def encode_stereo(self, audio: torch.Tensor) -> torch.Tensor:
        """Stereo audio `(batch, 2, samples)` to its tokens `(batch, stereo_codebooks, frames)`.

        EnCodec kind: the two coded signals of `config.channel_layout` (L and R, or M and S), interleaved.
        Spatial kind: the tokens of the stereo's per-band cues.
        """
        return self.stereo_codec.encode_stereo(audio)

    def decode_mono(self, codes: torch.Tensor, num_samples: int | None = None) -> torch.Tensor:
        """Codes `(batch, codebooks, frames)` to mono audio `(batch, samples)`."""
        return decode_mono(self.codec, codes, num_samples)

    def decode_stereo(self, codes: torch.Tensor, num_samples: int | None = None) -> torch.Tensor:
        """Interleaved stereo codes `(batch, 2 * codebooks, frames)` to L/R audio `(batch, 2, samples)`.

        A spatial model's tokens describe the stereo given the mono: decode them with `codec.synthesize`.
        """
        if self.config.is_spatial:
            raise ValueError("spatial tokens decode against the mono: use model.codec.synthesize(mono, cues, rate)")
        return self.stereo_codec.decode_stereo(codes, num_samples)

    # ----- the network -----

    def condition(self, style_ids: torch.Tensor, width_db: torch.Tensor) -> torch.Tensor:
        """Conditioning vector `(batch, hidden)`; a NaN width means unconditional width."""
        low, high = self.config.width_db_range
        scaled = (width_db.clamp(low, high) - low) / (high - low) * 2 - 1
        unconditional = torch.isnan(width_db)
        width = self.width_projection(torch.nan_to_num(scaled)[:, None].to(self.width_unconditional.dtype))
        width = torch.where(unconditional[:, None], self.width_unconditional.expand_as(width), width)
        return self.style_embedding(style_ids) + width

    def encode_condition(
        self, mono_codes: torch.Tensor, condition: torch.Tensor, frames_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Encode the mono conditioning `(batch, rows, frames)` into time-aligned states `(batch, frames, hidden)`."""
        if self.config.is_spatial:
            hidden = self.mono_features(mono_codes.transpose(1, 2).to(self.mono_features.weight.dtype))
        else:
            hidden = sum(embedding(mono_codes[:, k]) for k, embedding in enumerate(self.mono_embeddings))
        positions = torch.arange(mono_codes.shape[-1], device=mono_codes.device)
        hidden = hidden + sinusoidal_positions(positions, hidden.shape[-1]).to(hidden.dtype) + condition[:, None]
        states = self.mono_encoder(hidden, key_padding_mask=frames_mask)
        if frames_mask is not None:
            states = states * frames_mask[..., None].to(states.dtype)
        return states

    def width_head_states(
        self, mono_codes: torch.Tensor, style_ids: torch.Tensor, frames_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """A width-head model's encoder states `(batch, frames, hidden)`: they read the mono and the style only, so
        the head's prediction from them (`predicted_width_db`) does not depend on any width asked."""
        unconditional_width = torch.full(style_ids.shape, float("nan"), device=mono_codes.device)
        return self.encode_condition(mono_codes, self.condition(style_ids, unconditional_width), frames_mask)

    def predicted_width_db(self, mono_states: torch.Tensor, frames_mask: torch.Tensor | None = None) -> torch.Tensor:
        """The width head's prediction `(batch,)` in dB, within `config.width_db_range`, from the mono states
        `(batch, frames, hidden)` averaged over the real frames."""
        if frames_mask is None:
            pooled = mono_states.mean(1)
        else:
            weights = frames_mask[..., None].to(mono_states.dtype)
            pooled = (mono_states * weights).sum(1) / weights.sum(1).clamp(min=1)
        low, high = self.config.width_db_range
        scaled = torch.tanh(self.width_head(pooled)[:, 0].float())  # -1 .. 1 over the range, as `condition` scales
        return low + (scaled + 1) / 2 * (high - low)

    def decoder_context(
        self,
        mono_codes: torch.Tensor,
        style_ids: torch.Tensor,
        width_db: torch.Tensor,
        frames_mask: torch.Tensor | None = None,
        predict_width: torch.Tensor | None = None,
    ) -> DecoderContext:
        """The conditioning, aligned mono states and copy tokens of a window's delayed positions, as training
        (`forward`) and generation both feed them to `decode_step`.

        With a width head, the encoder reads the style alone, and the rows where `predict_width (batch,)` is True
        ask the decoder for the head's prediction instead of `width_db`.
        """
        if self.config.has_width_head:
            states = self.width_head_states(mono_codes, style_ids, frames_mask)
            predicted = self.predicted_width_db(states, frames_mask)
            if predict_width is not None:
                width_db = torch.where(predict_width.to(width_db.device), predicted.to(width_db.dtype), width_db)
            condition = self.condition(style_ids, width_db)
        else:
            if predict_width is not None and bool(predict_width.any()):
                raise ValueError("this model has no width head (config.width_head_weight 0): ask for a width")
            predicted = None
            condition = self.condition(style_ids, width_db)
            states = self.encode_condition(mono_codes, condition, frames_mask)
        mono_states = self.aligned_mono_states(states, delayed_length(mono_codes.shape[-1], self.delays))
        return DecoderContext(condition, mono_states, self.mono_copy_tokens(mono_codes), predicted)

    def decoder_inputs(self, tokens: torch.Tensor, first: int, last: int) -> torch.Tensor:
        """Decoder inputs of delayed positions `first` to `last` of `tokens (batch, C, positions)`: the input at t is
        the token at t - 1, and the special token at 0 (teacher forcing in `forward`, feedback in generation)."""
        if first == 0:
            return F.pad(tokens[..., :last], (1, 0), value=self.config.special_token_id)
        return tokens[..., first - 1 : last]

    def decoder_tables(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Every codebook's embedding table stacked `(C * rows, hidden)`, and every head's weight stacked
        `(C, vocabulary, hidden)` (None while adapters such as LoRA wrap the heads): `decode_step` builds them on
        each call unless given them, so generation stacks them once per window batch."""
        tables = torch.cat([embedding.weight for embedding in self.stereo_embeddings])
        plain = all(type(head) is nn.Linear for head in self.heads)
        return tables, torch.stack([head.weight for head in self.heads]) if plain else None

    def decode_step(
        self,
        input_tokens: torch.Tensor,
        mono_states: torch.Tensor,
        condition: torch.Tensor,
        copy_tokens: torch.Tensor,
        cache: KVCache | None = None,
        tables: tuple[torch.Tensor, torch.Tensor | None] | None = None,
    ) -> torch.Tensor:
        """Logits `(batch, stereo_codebooks, length, codebook_size)` for delayed inputs `(batch, C, length)`.

        `mono_states` (from `aligned_mono_states`) and `copy_tokens` (from `mono_copy_tokens`) cover the same
        positions as `input_tokens`; with a cache, the positions follow the ones already cached. `tables` are
        `decoder_tables()`, taken once by a caller that steps many times with the same weights.
        """
        offset = cache.length if cache is not None else 0
        embedding_table, head_weight = self.decoder_tables() if tables is None else tables
        # all codebooks' embeddings in one lookup: row c * rows + token of the stacked tables
        rows = self.stereo_embeddings[0].num_embeddings
        offsets = torch.arange(input_tokens.shape[1], device=input_tokens.device)[None, :, None] * rows
        hidden = F.embedding(input_tokens + offsets, embedding_table).sum(1)
        positions = torch.arange(offset, offset + input_tokens.shape[-1], device=input_tokens.device)
        hidden = hidden + sinusoidal_positions(positions, hidden.shape[-1]).to(hidden.dtype)
        hidden = self.decoder(hidden + mono_states + condition[:, None], cache=cache)
        if head_weight is not None:  # one matrix product for all heads
            batch, length, size = hidden.shape
            codebooks, vocabulary = head_weight.shape[:2]
            logits = (hidden.reshape(-1, size) @ head_weight.reshape(-1, size).T).view(
                batch, length, codebooks, vocabulary
            )
            logits = logits.transpose(1, 2)
        else:  # heads wrapped by adapters (LoRA) run one by one
            logits = torch.stack([head(hidden) for head in self.heads], dim=1)
        if self.config.is_spatial:  # no mono tokens to copy
            return logits
        vocabulary = logits.shape[-1]
        has_copy = (copy_tokens < vocabulary).to(logits.dtype)  # the special token has nothing to copy
        bonus = (self.copy_bias[None, :, None] * has_copy)[..., None]
        return logits.scatter_add(-1, copy_tokens.clamp(max=vocabulary - 1)[..., None], bonus)

    def aligned_mono_states(self, mono_states: torch.Tensor, length: int) -> torch.Tensor:
        """Mono states for `length` delayed positions: position t sees mono frames t - D .. t (D the largest delay;
        zeros past the last frame), the frames its codebooks are predicting."""
        padded = F.pad(mono_states, (0, 0, 0, length - mono_states.shape[1])).transpose(1, 2)
        causal = F.pad(padded, (max(self.delays), 0))
        return self.mono_projection(causal).transpose(1, 2)

    def mono_copy_tokens(self, mono_codes: torch.Tensor) -> torch.Tensor:
        """The mono's codes in the stereo delayed layout `(batch, 2K, frames + max_delay)`: kL and kR both get
        mono codebook k, so each stereo position knows the mono token of its own frame and level. A spatial model
        has no mono tokens: every position gets the special token, which copies nothing."""
        if self.config.is_spatial:
            batch, frames = mono_codes.shape[0], mono_codes.shape[-1]
            length = delayed_length(frames, self.delays)
            shape = (batch, self.config.num_stereo_codebooks, length)
            return torch.full(shape, self.config.special_token_id, dtype=torch.long, device=mono_codes.device)
        paired = mono_codes.repeat_interleave(2, dim=1)
        return apply_delay_pattern(paired, self.delays, self.config.special_token_id)

    def conditioning_inputs(
        self,
        batch: int,
        device: torch.device,
        style_ids: torch.Tensor | None,
        width_db: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Style ids and widths for a batch, unconditional where not given."""
        if style_ids is None:
            style_ids = torch.full((batch,), len(self.config.styles), dtype=torch.long, device=device)
        if width_db is None:
            width_db = torch.full((batch,), float("nan"), device=device)
        return style_ids.to(device), width_db.to(device=device, dtype=torch.float32)

    def forward(
        self,
        mono_codes: torch.Tensor,
        stereo_codes: torch.Tensor,
        frames_mask: torch.Tensor | None = None,
        style_ids: torch.Tensor | None = None,
        width_db: torch.Tensor | None = None,
    ) -> Mono2StereoOutput:
        """Teacher-forced loss of the stereo codes given the mono codes.

        Args:
            mono_codes: `(batch, codebooks, frames)` codes of the mono mix `(L + R) / 2`.
            stereo_codes: `(batch, 2 * codebooks, frames)` interleaved codes of L and R, undelayed.
            frames_mask: `(batch, frames)` True for real frames; padding frames carry no loss.
            style_ids: `(batch,)` indices into `config.styles`; `None` is unconditional.
            width_db: `(batch,)` side-to-mid energy ratio of the target in dB; NaN or `None` is unconditional.
        """
        batch, num_frames = mono_codes.shape[0], mono_codes.shape[-1]
        if stereo_codes.shape != (batch, self.config.num_stereo_codebooks, num_frames):
            raise ValueError(
                f"stereo_codes {tuple(stereo_codes.shape)} do not match mono_codes {tuple(mono_codes.shape)}: "
                f"expected ({batch}, {self.config.num_stereo_codebooks}, {num_frames})"
            )
        device = mono_codes.device
        style_ids, width_db = self.conditioning_inputs(batch, device, style_ids, width_db)
        target_width_db = width_db
        if self.training and self.config.condition_dropout > 0:
            drop_style = torch.rand(batch, device=device) < self.config.condition_dropout
            drop_width = torch.rand(batch, device=device) < self.config.condition_dropout
            style_ids = torch.where(drop_style, len(self.config.styles), style_ids)
            width_db = torch.where(drop_width, float("nan"), width_db)
        special = self.config.special_token_id
        if frames_mask is not None:  # padding frames look like the end of the sequence, as in generation
            stereo_codes = stereo_codes.masked_fill(~frames_mask[:, None], special)
            frame_counts = frames_mask.sum(-1)
        else:
            frame_counts = torch.full((batch,), num_frames, device=device)

        context = self.decoder_context(mono_codes, style_ids, width_db, frames_mask)
        targets = apply_delay_pattern(stereo_codes, self.delays, special)
        length = delayed_length(num_frames, self.delays)
        inputs = self.decoder_inputs(targets, 0, length - 1)
        if self.config.context_free:  # hidden in evaluation too, as generation has it
            inputs = torch.full_like(inputs, special)
        elif self.training and self.config.context_dropout > 0:
            dropped = torch.rand(inputs.shape, device=device) < self.config.context_dropout
            inputs = inputs.masked_fill(dropped, special)
        logits = self.decode_step(inputs, context.mono_states, context.condition, context.copy_tokens)

        valid = valid_delay_mask(self.delays, frame_counts, length)
        masked_targets = targets.masked_fill(~valid, -100)
        loss = F.cross_entropy(logits.flatten(0, 2).float(), masked_targets.flatten(), ignore_index=-100)
        correct = (logits.argmax(-1) == targets) & valid
        accuracy = correct.sum((0, 2)).float() / valid.sum((0, 2)).clamp(min=1)
        width_error = None
        if context.predicted_width_db is not None:
            loss, width_error = self.add_width_loss(loss, context.predicted_width_db, target_width_db)
        return Mono2StereoOutput(loss=loss, logits=logits, accuracy=accuracy, width_error_db=width_error)

    def add_width_loss(
        self, loss: torch.Tensor, predicted_db: torch.Tensor, target_db: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """`loss` plus the width head's weighted Huber loss (in units of 10 dB, over the windows whose width is
        known), and the head's mean absolute error in dB."""
        known = ~torch.isnan(target_db)
        if not bool(known.any()):
            return loss, torch.tensor(float("nan"), device=loss.device)
        target = target_db[known].clamp(*self.config.width_db_range)
        predicted = predicted_db[known]
        huber = F.smooth_l1_loss(predicted / 10, target / 10)
        return loss + self.config.width_head_weight * huber, (predicted - target).abs().mean().detach()

    def generate(self, mono_codes: torch.Tensor, **kwargs) -> torch.Tensor:
        """Sample stereo codes for mono codes; see `mono2stereo.modeling.generation.generate_stereo_codes`."""
        from .generation import generate_stereo_codes

        return generate_stereo_codes(self, mono_codes, **kwargs)

    def push_to_hub(self, repo_id: str, **kwargs):
        """Upload config, sampling settings, weights and a model card; see `modeling.hub.push_model`."""
        from .hub import push_model

        return push_model(self, repo_id, **kwargs)


__all__ = ["Mono2StereoModel", "Mono2StereoPreTrainedModel", "Mono2StereoOutput", "DecoderContext", "stereo_width_db"]
