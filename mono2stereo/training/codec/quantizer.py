"""Training of EnCodec's residual VQ: straight-through codes, commitment loss and EMA codebooks with dead-code reset.

It learns the buffers of transformers' `EncodecResidualVectorQuantizer` in place (`embed`, `embed_avg`,
`cluster_size`), so the trained codec encodes and decodes with plain `EncodecModel.encode` / `decode`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers.models.encodec.modeling_encodec import EncodecResidualVectorQuantizer

from .config import QuantizerSettings


@dataclass
class QuantizerOutput:
    """What one pass of the residual VQ gives the decoder and the loss."""

    quantized: torch.Tensor  # (batch, dim, frames), straight-through: the gradient flows to the encoder
    codes: torch.Tensor  # (codebooks, batch, frames)
    commitment_loss: torch.Tensor  # mean squared distance of each residual to its code, summed over codebooks


def nearest_codes(vectors: torch.Tensor, codebook: torch.Tensor) -> torch.Tensor:
    """Index of the nearest codebook row (Euclidean) for each row of `vectors`."""
    distances = vectors.pow(2).sum(1, keepdim=True) - 2 * vectors @ codebook.t() + codebook.pow(2).sum(1)[None]
    return distances.argmin(dim=1)


def kmeans(
    vectors: torch.Tensor, num_clusters: int, iterations: int, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Lloyd's k-means on `vectors` (n, dim): centroids (num_clusters, dim) and the count of vectors in each."""
    if vectors.shape[0] >= num_clusters:
        start = torch.randperm(vectors.shape[0], generator=generator)[:num_clusters]
        centroids = vectors[start].clone()
    else:  # fewer vectors than codes: repeat them, jittered so the copies can separate
        start = torch.randint(vectors.shape[0], (num_clusters,), generator=generator)
        jitter = torch.randn(num_clusters, vectors.shape[1], generator=generator) * vectors.std() * 0.01
        centroids = vectors[start] + jitter
    counts = torch.zeros(num_clusters)
    for _ in range(iterations):
        assignment = nearest_codes(vectors, centroids)
        counts = torch.bincount(assignment, minlength=num_clusters).float()
        sums = torch.zeros_like(centroids).index_add_(0, assignment, vectors)
        filled = counts > 0
        centroids[filled] = sums[filled] / counts[filled, None]
    return centroids, counts


class ResidualQuantizerTraining(nn.Module):
    """Runs and learns the residual VQ of an `EncodecModel` (its `quantizer`) on encoder outputs."""

    def __init__(
        self,
        quantizer: EncodecResidualVectorQuantizer,
        settings: QuantizerSettings,
        num_quantizers: int | None = None,
    ) -> None:
        super().__init__()
        self.quantizer = quantizer
        self.settings = settings
        self.num_quantizers = num_quantizers or len(quantizer.layers)
        if not 1 <= self.num_quantizers <= len(quantizer.layers):
            raise ValueError(f"num_quantizers is {self.num_quantizers}; the codec has {len(quantizer.layers)}")

    @property
    def codebooks(self) -> list[nn.Module]:
        """The `EncodecEuclideanCodebook` of each used residual layer."""
        return [layer.codebook for layer in self.quantizer.layers[: self.num_quantizers]]

    @torch.no_grad()
    def initialize(self, embeddings: torch.Tensor, generator: torch.Generator | None = None) -> None:
        """Set every codebook by k-means on the residuals of `embeddings` (batch, dim, frames), layer by layer."""
        residual = embeddings.detach().transpose(1, 2).reshape(-1, embeddings.shape[1]).float()
        for codebook in self.codebooks:
            centroids, counts = kmeans(residual, codebook.embed.shape[0], self.settings.kmeans_iterations, generator)
            codebook.embed.copy_(centroids)
            codebook.cluster_size.copy_(counts)
            codebook.embed_avg.copy_(centroids * counts[:, None])
            codebook.inited.fill_(1.0)
            residual = residual - centroids[nearest_codes(residual, centroids)]

    @torch.no_grad()
    def _update_codebook(self, codebook: nn.Module, vectors: torch.Tensor, codes: torch.Tensor) -> None:
        """One EMA step of the codebook towards the mean of the vectors each code took, then dead-code reset."""
        size = codebook.embed.shape[0]
        decay, epsilon = self.settings.decay, self.settings.epsilon
        counts = torch.bincount(codes, minlength=size).to(vectors.dtype)
        sums = torch.zeros_like(codebook.embed).index_add_(0, codes, vectors)
        codebook.cluster_size.mul_(decay).add_(counts, alpha=1 - decay)
        codebook.embed_avg.mul_(decay).add_(sums, alpha=1 - decay)
        total = codebook.cluster_size.sum()
        smoothed = (codebook.cluster_size + epsilon) / (total + size * epsilon) * total  # Laplace smoothing
        codebook.embed.copy_(codebook.embed_avg / smoothed[:, None])

        dead = codebook.cluster_size < self.settings.dead_code_threshold
        num_dead = int(dead.sum())
        if num_dead:
            picks = vectors[torch.randint(vectors.shape[0], (num_dead,), device=vectors.device)]
            # A fresh code gets a few hundred steps of grace before it counts as dead again.
            grace = 2.0 * self.settings.dead_code_threshold
            codebook.embed[dead] = picks
            codebook.cluster_size[dead] = grace
            codebook.embed_avg[dead] = picks * grace

    def forward(self, embeddings: torch.Tensor) -> QuantizerOutput:
        """Quantize encoder outputs (batch, dim, frames); in training mode also learn the codebooks."""
        batch, dim, frames = embeddings.shape
        flat = embeddings.transpose(1, 2).reshape(-1, dim)
        residual = flat.detach()
        quantized_sum = torch.zeros_like(flat)
        commitment = flat.new_zeros(())
        all_codes = []
        for codebook in self.codebooks:
            codes = nearest_codes(residual, codebook.embed)
            quantized = codebook.embed[codes]
            # The residual with its gradient: the encoder output minus the (constant) codes before this one.
            commitment = commitment + nn.functional.mse_loss(flat - quantized_sum, quantized)
            quantized_sum = quantized_sum + quantized
            if self.training:
                self._update_codebook(codebook, residual, codes)
            residual = residual - quantized
            all_codes.append(codes.view(batch, frames))
        straight_through = flat + (quantized_sum - flat).detach()
        return QuantizerOutput(
            quantized=straight_through.view(batch, frames, dim).transpose(1, 2),
            codes=torch.stack(all_codes),
            commitment_loss=commitment,
        )
