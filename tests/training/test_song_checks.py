"""Song checks: a copy is found through a gain change and a cut, silence alone makes no two songs alike."""

import numpy as np

from mono2stereo.training.song_checks import DUPLICATE_CORRELATION, envelope_match, fingerprint

RATE = 16000


def song(seconds: float, seed: int, silence_s: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    count = int(seconds * RATE)
    envelope = np.repeat(rng.uniform(0.05, 1.0, int(seconds * 4) + 1), RATE // 4)[:count]
    audio = (rng.standard_normal((count, 2)) * 0.1 * envelope[:, None]).astype(np.float32)
    quiet = np.zeros((int(silence_s * RATE), 2), np.float32)
    return np.concatenate([quiet, audio, quiet])


def test_a_quieter_cut_copy_matches_and_songs_sharing_only_silence_do_not():
    first, other = song(60, seed=1, silence_s=20), song(60, seed=2, silence_s=20)
    copy = 0.3 * first[7 * RATE + 123 :]
    assert envelope_match(fingerprint(first, RATE), fingerprint(copy, RATE)) > DUPLICATE_CORRELATION + 0.1
    assert envelope_match(fingerprint(first, RATE), fingerprint(other, RATE)) < DUPLICATE_CORRELATION / 2
