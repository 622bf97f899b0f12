"""Make `examples/mono.wav`: a short piece of mono2stereo's own synthetic music, folded to mono.

    python examples/make_example.py

The piece comes from `SyntheticMixes` (drums, bass, chords, lead and pads synthesised from a seed), so the clip
is entirely ours and ships under the project's licence (Apache-2.0).
"""

from pathlib import Path

import numpy as np
import soundfile as sf

from mono2stereo.training.synthetic import SyntheticMixes

SEED, SECONDS, SAMPLING_RATE = 7, 12.0, 32000


def main() -> None:
    mix = SyntheticMixes(num_mixes=1, sampling_rate=SAMPLING_RATE, duration_s=SECONDS, styles=["modern"], seed=SEED)
    mono = np.asarray(mix[0]["audio"], dtype=np.float64).mean(axis=0)
    mono *= 0.5 / max(float(np.abs(mono).max()), 1e-9)  # peak at -6 dBFS
    path = Path(__file__).with_name("mono.wav")
    sf.write(path, mono.astype(np.float32), SAMPLING_RATE, subtype="PCM_16")
    print(f"wrote {path} ({len(mono) / SAMPLING_RATE:.1f} s at {SAMPLING_RATE} Hz)")


if __name__ == "__main__":
    main()
