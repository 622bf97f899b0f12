"""Transformer layers shared by the mono encoder and the stereo decoder, with a preallocated KV cache."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def sinusoidal_positions(positions: torch.Tensor, dim: int) -> torch.Tensor:
    """Fixed sine/cosine position features `(..., dim)` for integer `positions`."""
    half = dim // 2
    frequencies = torch.exp(-math.log(10000.0) * torch.arange(half, device=positions.device) / half)
    angles = positions.float()[..., None] * frequencies
    features = torch.cat([angles.sin(), angles.cos()], dim=-1)
    return F.pad(features, (0, dim - 2 * half))


class KVCache:
    """Keys and values of every decoder layer for positions already seen, preallocated to `max_length`."""

    def __init__(self, num_layers: int, batch: int, heads: int, max_length: int, head_dim: int, like: torch.Tensor):
        shape = (batch, heads, max_length, head_dim)
        self.keys = [like.new_zeros(shape) for _ in range(num_layers)]
        self.values = [like.new_zeros(shape) for _ in range(num_layers)]
        self.length = 0  # positions stored; advanced by the caller after all layers have written

    def store(self, layer: int, keys: torch.Tensor, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Write the new positions of one layer and return all keys and values so far."""
        end = self.length + keys.shape[2]
        if end > self.keys[layer].shape[2]:
            raise ValueError(f"KV cache holds {self.keys[layer].shape[2]} positions; {end} requested")
        self.keys[layer][:, :, self.length : end] = keys
        self.values[layer][:, :, self.length : end] = values
        return self.keys[layer][:, :, :end], self.values[layer][:, :, :end]


class SelfAttention(nn.Module):
    """Multi-head self-attention, causal or not."""

    def __init__(self, hidden_size: int, num_heads: int, dropout: float, causal: bool):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = hidden_size // num_heads
        self.causal = causal
        self.dropout = dropout
        self.qkv = nn.Linear(hidden_size, 3 * hidden_size, bias=False)
        self.out = nn.Linear(hidden_size, hidden_size, bias=False)

    def forward(
        self,
        hidden: torch.Tensor,
        key_padding_mask: torch.Tensor | None = None,
        cache: KVCache | None = None,
        layer_index: int = 0,
    ) -> torch.Tensor:
        batch, length, _ = hidden.shape
        q, k, v = self.qkv(hidden).view(batch, length, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        past = 0
        if cache is not None:
            past = cache.length
            k, v = cache.store(layer_index, k, v)
        mask, is_causal = None, False
        if self.causal and length > 1:
            if past == 0:
                is_causal = True
            else:  # several new positions after cached ones
                rows = torch.arange(length, device=hidden.device)[:, None] + past
                mask = torch.arange(past + length, device=hidden.device)[None, :] <= rows
        if key_padding_mask is not None:  # (batch, keys) True where real
            mask = key_padding_mask[:, None, None, :]
        dropout = self.dropout if self.training else 0.0
        attended = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout, is_causal=is_causal)
        return self.out(attended.transpose(1, 2).reshape(batch, length, -1))


class TransformerBlock(nn.Module):
    """Pre-norm block: self-attention then a GELU feed-forward, each with a residual."""

    def __init__(
        self,
        hidden_size: int,
        num_heads: int,
        intermediate_size: int,
        dropout: float,
        attention_dropout: float,
        causal: bool,
    ):
        super().__init__()
        self.attention_norm = nn.LayerNorm(hidden_size)
        self.attention = SelfAttention(hidden_size, num_heads, attention_dropout, causal)
        self.feed_forward_norm = nn.LayerNorm(hidden_size)
        self.feed_forward = nn.Sequential(
            nn.Linear(hidden_size, intermediate_size),
            nn.GELU(),
            nn.Linear(intermediate_size, hidden_size),
        )
        self.dropout = nn.Dropout(dropout)

    def forward(
        self,
        hidden: torch.Tensor,
        key_padding_mask: torch.Tensor | None = None,
        cache: KVCache | None = None,
        layer_index: int = 0,
    ) -> torch.Tensor:
        attended = self.attention(self.attention_norm(hidden), key_padding_mask, cache, layer_index)
        hidden = hidden + self.dropout(attended)
        return hidden + self.dropout(self.feed_forward(self.feed_forward_norm(hidden)))


class TransformerStack(nn.Module):
    """A stack of blocks with a final norm."""

    def __init__(self, config, num_layers: int, causal: bool):
        super().__init__()
        self.layers = nn.ModuleList(
            TransformerBlock(
                config.hidden_size,
                config.num_attention_heads,
                config.intermediate_size,
                config.dropout,
                config.attention_dropout,
                causal,
            )
            for _ in range(num_layers)
        )
        self.norm = nn.LayerNorm(config.hidden_size)

    def forward(
        self,
        hidden: torch.Tensor,
        key_padding_mask: torch.Tensor | None = None,
        cache: KVCache | None = None,
    ) -> torch.Tensor:
        for index, layer in enumerate(self.layers):
            hidden = layer(hidden, key_padding_mask, cache, index)
        if cache is not None:
            cache.length += hidden.shape[1]
        return self.norm(hidden)


__all__ = ["sinusoidal_positions", "KVCache", "SelfAttention", "TransformerBlock", "TransformerStack"]
