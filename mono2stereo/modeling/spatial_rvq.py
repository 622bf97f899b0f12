"""The spatial codec's `rvq` tokenizer: residual vector quantisation of a frame's cues, in mirror-closed tables.

A frame's cues of all bands are one vector `[ILD_1 / s, ..., ILD_B / s, IC_1, ..., IC_B]` (`s`: the config's
`rvq_ild_scale_db`). Stage 1 codes it as the nearest entry of its table, each later stage the residual the stages
before it left, so `K` stages of `V` entries give `K` tokens per frame (`K log2 V` bits) instead of two per band.

Every table is closed under the left/right mirror (the ILD half negated, the coherences kept): it holds entries that
are their own mirror (ILD half zero) and pairs `(u, v), (-u, v)`, and `mirror[k, i]` is the index of entry `i`'s
mirror. The nearest entry is chosen so that the choice is exactly equivariant: a pair's distance depends on the ILD
half only through `|a . u|` and the member through the sign of `a . u`, and both are computed from one product that
a mirror negates exactly; a residual that is its own mirror (ILD half all zero: silence, dual mono) is coded by the
self-mirror entries only, so it stays its own mirror. By induction over the stages the swap of the residual is the
residual of the swap, and a swap acts on the codes alone: `tokenize(mirror(cues)) == swap(tokenize(cues))`.

The tables are buffers of the codec, saved in `model.safetensors` with the model; they are fitted on training songs
by `mono2stereo.training.spatial_rvq_fit`, which writes them to `RVQ_TABLES_FILE`.
"""

from __future__ import annotations

import os

import torch
from safetensors.torch import load_file, save_file

from .spatial_codec_config import SpatialCodecConfig

RVQ_TABLES_FILE = "spatial_rvq.safetensors"  # the fitted tables beside a model config (`spatial_rvq_fit`)
ENCODE_CHUNK = 8192  # frames compared with a table at once


def self_mirror_count(size: int) -> int:
    """Entries of a table of `size` that are their own mirror: an eighth, at least one, leaving an even rest."""
    count = max(1, size // 8)
    return count + (size - count) % 2


def mirror_closed_table(
    own_coherence: torch.Tensor, pair_ild: torch.Tensor, pair_coherence: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """A table `(..., size, 2B)` in the layout the quantizer keeps, and its mirror permutation `(size,)`: first the
    self-mirror entries `(0, w)` of `own_coherence (..., own, B)`, then each pair `(u, v), (-u, v)` of
    `pair_ild, pair_coherence (..., pairs, B)` side by side, each pair member the other's mirror."""
    own = own_coherence.shape[-2]
    first = torch.cat([pair_ild, pair_coherence], -1)
    mirrored = torch.cat([-pair_ild, pair_coherence], -1)
    own_entries = torch.cat([torch.zeros_like(own_coherence), own_coherence], -1)
    table = torch.cat([own_entries, torch.stack([first, mirrored], -2).flatten(-3, -2)], -2)
    index = torch.arange(own, table.shape[-2])
    return table, torch.cat([torch.arange(own), index + 1 - 2 * ((index - own) % 2)])


def nearest_entries(
    residual: torch.Tensor, own: torch.Tensor, pair_ild: torch.Tensor, pair_coherence: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The nearest entry of one table to each row of `residual (N, 2B)`, the table given as its self-mirror entries'
    coherence halves `own (S, B)` and its pairs' first members `(pair_ild (P, B), pair_coherence (P, B))`.

    Returns `choice (N,)`, in `0..S-1` a self-mirror entry and in `S..S+P-1` a pair, and `sign (N,)` True where the
    pair's first member `(u, v)` is nearer than its mirror `(-u, v)`. Terms common to all entries are left out.
    """
    bands = own.shape[1]
    ild, coherence = residual[:, :bands], residual[:, bands:]
    projection = ild @ pair_ild.T  # its exact negation for the mirrored residual
    pair_distance = (pair_ild.square().sum(1) + pair_coherence.square().sum(1)) - 2 * (
        projection.abs() + coherence @ pair_coherence.T
    )
    own_distance = own.square().sum(1) - 2 * (coherence @ own.T)
    symmetric = (ild == 0).all(1, keepdim=True)
    pair_distance = pair_distance.masked_fill(symmetric, float("inf"))
    choice = torch.cat([own_distance, pair_distance], dim=1).argmin(1)
    pair = (choice - own.shape[0]).clamp(min=0)
    sign = projection.gather(1, pair[:, None])[:, 0] >= 0
    return choice, sign


class ResidualCueQuantizer(torch.nn.Module):
    """The `rvq` tokens of `SpatialCodecConfig`: `tables (K, V, 2B)` and `mirror (K, V)`; see the module."""

    def __init__(self, config: SpatialCodecConfig):
        super().__init__()
        self.num_bands, self.ild_scale_db = config.num_bands, float(config.rvq_ild_scale_db)
        shape = (config.rvq_codebooks, config.rvq_size)
        # NaN until fitted tables are loaded (`from_pretrained`, `load_tables`), so unfitted ones cannot pass unseen
        self.register_buffer("tables", torch.full((*shape, 2 * config.num_bands), float("nan")))
        self.register_buffer("mirror", torch.arange(shape[1]).repeat(shape[0], 1))

    @property
    def is_fitted(self) -> bool:
        """Whether tables have been set (they are NaN until then)."""
        return bool(torch.isfinite(self.tables).all())

    def vectors(self, cues: torch.Tensor) -> torch.Tensor:
        """Cues `(..., bands, 2)` to the quantised vectors `(..., 2 * bands)`: scaled ILDs, then coherences."""
        return torch.cat([cues[..., 0] / self.ild_scale_db, cues[..., 1]], dim=-1).float()

    def cues(self, vectors: torch.Tensor) -> torch.Tensor:
        """Vectors `(..., 2 * bands)` back to cues `(..., bands, 2)` (coherence clipped to [0, 1])."""
        ild, coherence = vectors.split(self.num_bands, dim=-1)
        return torch.stack([ild * self.ild_scale_db, coherence.clamp(0.0, 1.0)], dim=-1)

    def stage_parts(self, stage: int) -> tuple[torch.Tensor, ...]:
        """A table as `nearest_entries` takes it, with the indices: `(own, pair_ild, pair_coherence, own_index,
        pair_index)`, `pair_index` the first members."""
        table, mirror = self.tables[stage].float(), self.mirror[stage]
        index = torch.arange(len(mirror), device=mirror.device)
        own_index, pair_index = index[mirror == index], index[mirror > index]
        bands = self.num_bands
        return table[own_index, bands:], table[pair_index, :bands], table[pair_index, bands:], own_index, pair_index

    def encode(self, vectors: torch.Tensor) -> torch.Tensor:
        """Vectors `(N, 2 * bands)` to codes `(N, K)`, stage by stage on the residual."""
        if not self.is_fitted:
            raise ValueError(
                "the spatial codec's rvq tables are not fitted: load a model saved with them (from_pretrained), or "
                "fit them with python -m mono2stereo.training.spatial_rvq_fit and give that folder as model.codec"
            )
        codes = torch.cat([self._encode_chunk(chunk) for chunk in vectors.float().split(ENCODE_CHUNK)])
        return codes if len(vectors) else codes.reshape(0, self.tables.shape[0])

    def _encode_chunk(self, residual: torch.Tensor) -> torch.Tensor:
        codes = []
        for stage in range(self.tables.shape[0]):
            code = self.encode_stage(residual, stage)
            residual = residual - self.tables[stage].float()[code]
            codes.append(code)
        return torch.stack(codes, dim=1)

    def encode_stage(self, residual: torch.Tensor, stage: int) -> torch.Tensor:
        """The code `(N,)` of the nearest entry of one stage's table to each row of `residual (N, 2 * bands)`."""
        own, pair_ild, pair_coherence, own_index, pair_index = self.stage_parts(stage)
        choice, sign = nearest_entries(residual, own, pair_ild, pair_coherence)
        first = pair_index[(choice - len(own_index)).clamp(min=0)]
        pair_code = torch.where(sign, first, self.mirror[stage][first])
        return torch.where(choice < len(own_index), own_index[choice.clamp(max=len(own_index) - 1)], pair_code)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes `(N, K)` to vectors `(N, 2 * bands)`: the sum of each stage's entry (a code past a table's end, the
        special token say, counts as its last entry)."""
        codes = codes.clamp(0, self.tables.shape[1] - 1)
        tables = self.tables.float()
        return sum(tables[stage][codes[:, stage]] for stage in range(tables.shape[0]))

    def swap(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes `(batch, K, frames)` of the stereo with left and right exchanged: each code through its stage's
        mirror permutation (a special token stays)."""
        size = self.mirror.shape[1]
        mirrored = torch.gather(self.mirror[None].expand(len(codes), -1, -1), 2, codes.clamp(0, size - 1))
        return torch.where(codes < size, mirrored, codes)

    @torch.no_grad()
    def set_tables(self, tables: torch.Tensor, mirror: torch.Tensor) -> None:
        """Take fitted `tables (K, V, 2B)` and `mirror (K, V)`, after checking that they are mirror-closed."""
        if tables.shape != self.tables.shape or mirror.shape != self.mirror.shape:
            raise ValueError(
                f"rvq tables {tuple(tables.shape)} and mirror {tuple(mirror.shape)} do not fit the config, which "
                f"expects {tuple(self.tables.shape)} and {tuple(self.mirror.shape)}; fit them for this config"
            )
        bands, mirror = self.num_bands, mirror.long().to(self.mirror.device)
        tables = tables.to(self.tables)
        identity = torch.arange(mirror.shape[1], device=mirror.device).expand_as(mirror)
        valid = bool(((mirror >= 0) & (mirror < mirror.shape[1])).all())
        if not valid or not torch.equal(torch.gather(mirror, 1, mirror), identity):
            raise ValueError("the rvq mirror is not a permutation that is its own inverse; fit the tables again")
        mirrored = torch.stack([tables[k][mirror[k]] for k in range(len(tables))])
        expected = torch.cat([-tables[..., :bands], tables[..., bands:]], dim=-1)
        if not (torch.equal(mirrored, expected) and torch.isfinite(tables).all()):
            raise ValueError("rvq tables are not mirror-closed (an entry's mirror is not the entry `mirror` names)")
        if not (mirror == identity).any(1).all():
            raise ValueError("every rvq table needs an entry that is its own mirror (zero level differences)")
        self.tables.copy_(tables)
        self.mirror.copy_(mirror)

    def save_tables(self, folder: str | os.PathLike) -> str:
        """Write the tables to `folder/RVQ_TABLES_FILE`; returns the file's path."""
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, RVQ_TABLES_FILE)
        save_file({"tables": self.tables.contiguous(), "mirror": self.mirror.contiguous()}, path)
        return path

    def load_tables(self, folder: str | os.PathLike) -> ResidualCueQuantizer:
        """Read tables that `save_tables` wrote to `folder`."""
        path = os.path.join(folder, RVQ_TABLES_FILE)
        if not os.path.isfile(path):
            raise ValueError(
                f"{folder} holds no {RVQ_TABLES_FILE}; fit one with python -m mono2stereo.training.spatial_rvq_fit"
            )
        tensors = load_file(path)
        self.set_tables(tensors["tables"], tensors["mirror"])
        return self


__all__ = ["ResidualCueQuantizer", "RVQ_TABLES_FILE", "mirror_closed_table", "nearest_entries", "self_mirror_count"]
