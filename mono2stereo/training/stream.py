"""`TrainingStream`: the data sources, interleaved with weights, as one shardable `datasets.IterableDataset`.

The stream is a fixed function of (seed, epoch): each source's shards are read in an order drawn for the epoch,
each example's crops and augmentation come from its own seeded generator, and sources are interleaved by a seeded
choice in proportion to their weights. So a run that resumes after N batches and skips N batches sees exactly what
an uninterrupted run sees. `accelerate` splits the stream across processes by shards (when there are at least as
many shards as processes).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import numpy as np
import torch

from ..modeling import Mono2StereoConfig
from .config import DataConfig, SourceConfig
from .preprocessing import example_rng, style_ids, training_examples
from .sources import read_shard, source_shards
from .token_shards import list_token_shards, read_token_shard


class TrainingStream:
    """Training or held-out examples from `sources`; `skipped` counts what was dropped, by reason."""

    def __init__(
        self,
        sources: list[SourceConfig],
        data: DataConfig,
        model_config: Mono2StereoConfig,
        seed: int = 0,
    ):
        if not sources:
            raise ValueError("no data sources given")
        kinds = {source.kind == "tokens" for source in sources}
        if len(kinds) > 1:
            raise ValueError("token shards cannot be interleaved with audio sources; tokenize every source")
        self.sources, self.data, self.model_config, self.seed = sources, data, model_config, seed
        self.tokens = kinds.pop()
        self.epoch = 0
        self.skipped: Counter = Counter()
        self.decoded = 0  # source examples (files, records, mixes, token rows) read and decoded
        self.weights = np.array([source.weight for source in sources], dtype=np.float64)

    def shards(self) -> list[list[tuple[int, object]]]:
        """Composite shards: shard j holds every source's shards i with i % count == j."""
        per_source = [list_token_shards(s.path) if s.kind == "tokens" else source_shards(s) for s in self.sources]
        count = max(1, min(len(shards) for shards in per_source))
        return [
            [(index, shard) for index, shards in enumerate(per_source) for shard in shards[j::count]]
            for j in range(count)
        ]

    def dataset(self, shuffle_buffer: int = 0):
        """The stream as a `datasets.IterableDataset`; call `set_epoch` on it and on this object each epoch."""
        import datasets

        dataset = datasets.IterableDataset.from_generator(self.generate, gen_kwargs={"shards": self.shards()})
        if shuffle_buffer > 1:
            dataset = dataset.shuffle(seed=self.seed, buffer_size=shuffle_buffer)
        return dataset

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose crops and augmentation the stream draws."""
        self.epoch = epoch

    def generate(self, shards: list[list[tuple[int, object]]]) -> Iterator[dict]:
        """Examples of the given composite shards, each source drawn with probability in proportion to its weight.

        Within a composite shard each source reads its own shards in an order drawn for the epoch, and the composite
        ends when its first source runs out, so the weights hold for the whole stream: a large source (200,000
        synthetic mixes, say) never follows a small one alone once the small one is used up. An epoch is thus one
        pass over the source that runs out first, a different part of the others each epoch.
        """
        for composite in shards:
            by_source: dict[int, list] = {}
            for index, shard in composite:
                by_source.setdefault(index, []).append(shard)
            rng = np.random.default_rng([self.seed, self.epoch, len(composite), *by_source])
            readers = [
                self._read_all(index, [items[i] for i in rng.permutation(len(items))])
                for index, items in by_source.items()
            ]
            weights = np.array([self.weights[index] for index in by_source])
            while True:
                pick = int(rng.choice(len(readers), p=weights / weights.sum()))
                try:
                    yield next(readers[pick])
                except StopIteration:
                    break

    def _read_all(self, index: int, shards: list) -> Iterator[dict]:
        for shard in shards:
            yield from self._read(index, shard)

    def _read(self, index: int, shard) -> Iterator[dict]:
        source = self.sources[index]
        if self.tokens:
            for example in read_token_shard(shard, self.model_config, self.skipped):
                self.decoded += 1
                if source.style is not None:
                    example["style"] = source.style
                yield self._swap_tokens(example)
            return
        for example in read_shard(source, shard, self.model_config.sampling_rate, self.skipped):
            self.decoded += 1
            rng = example_rng(self.seed, self.epoch, example["id"])
            yield from training_examples(example, self.model_config, self.data, rng, self.skipped)

    def no_examples_error(self) -> ValueError:
        """The error for an epoch that gave no training example: what was read, and why each kind was dropped."""
        names = ", ".join(f"{s.kind} {s.path}" if s.path else s.kind for s in self.sources)
        read = self.decoded + self.skipped["undecodable"]
        reasons = {
            "undecodable": "could not be decoded (damaged, empty or not audio)",
            "silent": f"crops quieter than data.silence_db={self.data.silence_db:g} dB",
            "near_mono": f"crops narrower than data.min_width_db={self.data.min_width_db:g} dB (mono or near-mono "
            "audio has no side to learn from; give stereo files)",
        }
        dropped = "; ".join(f"{self.skipped[k]} {text}" for k, text in reasons.items() if self.skipped[k])
        return ValueError(
            f"no usable training example in a whole epoch of {names}: {read} files or records read, "
            f"{self.decoded} decoded; dropped: {dropped or 'none'}"
        )

    def _swap_tokens(self, example: dict) -> dict:
        """Left/right swap augmentation done on tokens by the stereo codec (`swap_channels`), with
        `data.swap_probability` per example and epoch.

        A layout whose swap needs the codes of the mirrored stereo (`needs_mirrored_codes`: mid-side, the codes of
        the negated side, which `tokenize` stores as `mirrored_side_codes`) is not swapped in a shard made without
        them. Spatial token shards are left as they are (the stream never swapped them; `SpatialCodec.swap_channels`
        could).
        """
        mirrored = example.pop("mirrored_side_codes", None)
        if self.model_config.is_spatial:
            return example
        codec = self.model_config.stereo_codec
        if codec.needs_mirrored_codes and mirrored is None:
            return example
        rng = example_rng(self.seed, self.epoch, example["id"])
        if rng.random() < self.data.swap_probability:
            codes = codec.swap_channels(example["stereo_codes"], mirrored)
            example["stereo_codes"] = np.ascontiguousarray(codes)
        return example

    def collate(self, examples: list[dict]) -> dict:
        """Stack examples into a batch: audio or codes, `style_ids`, `width_db`, and the example `ids`."""
        batch = {
            "style_ids": style_ids([e["style"] for e in examples], self.model_config, self.skipped),
            "width_db": torch.tensor([e["width_db"] for e in examples], dtype=torch.float32),
            "ids": [e["id"] for e in examples],
        }
        if self.tokens:
            batch["mono_codes"] = torch.from_numpy(np.stack([e["mono_codes"] for e in examples])).long()
            batch["stereo_codes"] = torch.from_numpy(np.stack([e["stereo_codes"] for e in examples])).long()
        else:
            batch["audio"] = torch.from_numpy(np.stack([e["audio"] for e in examples]))
        return batch


__all__ = ["TrainingStream"]
