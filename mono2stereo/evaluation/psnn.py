"""PS-NN, the nearest-neighbour baseline of Serrà et al. 2023: each mono frame takes the stereo cues of the training
frame whose mono sounds most alike.

    python -m mono2stereo.evaluation.psnn data/debian-music-32k/train -o outputs/psnn-index
    mono2stereo eval --refs ... --systems psnn:outputs/psnn-index ...

The index holds, for frames of the training songs, a key (the context of the mono's band log-energies: their
spectral shape averaged over five frames, and its change across them) and the frame's true cues, analysed by the
spatial codec. Upmixing looks up every frame of the input and synthesises the found cues against it, as a spatial
model's tokens are (`SpatialCodec.synthesize`), so the two differ only in how the cues are chosen.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from safetensors.torch import load_file, save_file
from tqdm.auto import tqdm

from ..audio import AUDIO_EXTENSIONS, CHANNELS_FIRST, fold
from ..inference.resampling import resample
from ..modeling.spatial_codec import SpatialCodec, SpatialCodecConfig

CONTEXT_FRAMES = 5
QUERY_CHUNK = 2048  # query frames compared with the whole index at once


def frame_keys(codec: SpatialCodec, mono: torch.Tensor) -> torch.Tensor:
    """Keys `(frames, 2 * feature_bands)` of mono `(samples,)` at the codec's rate, unit length."""
    features = codec.mono_features(mono[None])[0]  # (bands, frames)
    shape = features - features.mean(0, keepdim=True)  # level-free spectral shape
    pad = CONTEXT_FRAMES // 2
    padded = torch.nn.functional.pad(shape[None], (pad, pad), mode="replicate")[0]
    context = torch.nn.functional.avg_pool1d(padded[None], CONTEXT_FRAMES, stride=1)[0]
    change = padded[:, 2 * pad :] - padded[:, : -2 * pad]
    keys = torch.cat([context, change]).T
    return keys / keys.norm(dim=1, keepdim=True).clamp(min=1e-6)


def build_index(folder: str | Path, output: str | Path, frame_step: int = 2, max_files: int | None = None) -> int:
    """Index every `frame_step`-th frame of the stereo files in `folder`; returns the number of frames indexed."""
    files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in AUDIO_EXTENSIONS)
    if not files:
        raise ValueError(f"{folder} has no audio files to index")
    codec = SpatialCodec(SpatialCodecConfig())
    rate = codec.config.sampling_rate
    keys, cues = [], []
    for path in tqdm(files[:max_files], desc="indexing", unit="file"):
        audio, file_rate = sf.read(str(path), dtype="float32", always_2d=True)
        if audio.shape[1] != 2:
            continue
        stereo = torch.from_numpy(np.ascontiguousarray(resample(audio, file_rate, rate).T))
        keys.append(frame_keys(codec, fold(stereo, CHANNELS_FIRST))[::frame_step].half())
        cues.append(codec.analyze(stereo[None])[0][::frame_step].half())
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    save_file(
        {"keys": torch.cat(keys).contiguous(), "cues": torch.cat(cues).contiguous()}, output / "index.safetensors"
    )
    (output / "codec.json").write_text(json.dumps(codec.config.to_diff_dict(), indent=2))
    return sum(len(k) for k in keys)


class PsnnUpmixer:
    """Upmixes with the cues of the nearest indexed frames; see the module docstring."""

    def __init__(self, index: str | Path):
        index = Path(index)
        if not (index / "index.safetensors").is_file():
            raise ValueError(f"{index} holds no PS-NN index; build one with python -m mono2stereo.evaluation.psnn")
        tensors = load_file(str(index / "index.safetensors"))
        self.keys, self.cues = tensors["keys"].float(), tensors["cues"].float()
        self.codec = SpatialCodec(SpatialCodecConfig(**json.loads((index / "codec.json").read_text())))

    def cues_for(self, mono: np.ndarray, sampling_rate: int) -> np.ndarray:
        """The cues `(frames, bands, 2)` of the nearest indexed frame of every frame of `mono`."""
        coded = torch.from_numpy(resample(mono, sampling_rate, self.codec.config.sampling_rate))
        keys = frame_keys(self.codec, coded)
        nearest = torch.cat([(chunk @ self.keys.T).argmax(1) for chunk in keys.split(QUERY_CHUNK)])
        return self.cues[nearest].numpy()

    def __call__(self, mono: np.ndarray, sampling_rate: int, width: float = 1.0) -> np.ndarray:
        """Stereo `(samples, 2)` whose mid is `mono` and whose cues are the nearest neighbours'."""
        return self.codec.synthesize(mono, self.cues_for(mono, sampling_rate), sampling_rate, width)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mono2stereo.evaluation.psnn", description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="a folder of stereo training files (never the evaluation tracks)")
    parser.add_argument("-o", "--output", required=True, help="the index folder to write")
    parser.add_argument("--frame-step", type=int, default=2, help="index every N-th frame (default 2)")
    args = parser.parse_args(argv)
    try:
        count = build_index(args.folder, args.output, args.frame_step)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"indexed {count} frames into {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
