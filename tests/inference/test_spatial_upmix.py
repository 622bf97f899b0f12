"""A spatial model upmixes files through the streaming path: cues from the spool, side made and limited in blocks."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from mono2stereo.inference.files import upmix_file
from mono2stereo.inference.limiting import PEAK_CEILING
from mono2stereo.inference.pipeline import Mono2StereoPipeline
from mono2stereo.inference.spool import AudioSpool
from mono2stereo.modeling.spatial_codec import SpatialCodec, SpatialCodecConfig
from mono2stereo.modeling.tiny import tiny_model

RATE = 22050


def noise(seconds: float, scale: float = 0.1, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(int(seconds * RATE)) * scale).astype(np.float32)


def test_a_spatial_file_upmix_equals_the_in_memory_one_and_keeps_the_chosen_channel(tmp_path):
    pipeline = Mono2StereoPipeline(tiny_model(spatial=True))
    left, right = noise(1.5, seed=1), noise(1.5, seed=2)
    sf.write(tmp_path / "in.wav", np.stack([left, right], axis=1), RATE, subtype="FLOAT")
    paths = [str(tmp_path / "out-v1.wav"), str(tmp_path / "out-v2.wav")]
    output = upmix_file(
        tmp_path / "in.wav", paths, pipeline, subtype="FLOAT", seed=0, window_seconds=0.5, channel="left"
    )
    assert output.audio is None and output.folded and output.fold_level_db is None  # one channel: no fold-down
    assert len(output.peak_gain) == len(output.side_gain) == 2
    written = np.stack([sf.read(path, dtype="float32")[0] for path in paths])
    in_memory = pipeline(
        np.stack([left, right], axis=1), RATE, seed=0, num_variants=2, window_seconds=0.5, channel="left"
    )
    np.testing.assert_allclose(written, in_memory.audio, atol=1e-6)
    assert np.max(np.abs(written.mean(axis=-1) - left[None])) < 1e-6  # the mid is the left channel, exactly
    assert not np.array_equal(written[0], written[1])


def test_a_loud_input_keeps_its_mid_and_only_the_side_is_turned_down():
    pipeline = Mono2StereoPipeline(tiny_model(spatial=True))
    mono = noise(1.0, scale=0.3)
    mono *= np.float32(0.95 / np.max(np.abs(mono)))
    output = pipeline(mono, RATE, seed=0, width=4.0, window_seconds=0.5)
    assert output.peak_gain[0] == 1.0  # the input itself does not clip: no gain on the whole
    assert output.side_gain[0] < 1.0  # a wide side on a loud input would pass the ceiling
    assert np.max(np.abs(output.audio)) <= PEAK_CEILING
    assert np.max(np.abs(output.audio.mean(axis=1) - mono)) < 1e-6


def test_side_blocks_read_from_a_spool_give_the_side_of_the_whole_array(monkeypatch):
    import mono2stereo.modeling.spatial_codec as spatial_codec

    codec = SpatialCodec(SpatialCodecConfig(sampling_rate=16000, hop_length=400, frame_length=1024, highest_hz=7900.0))
    mono = noise(3.0)
    rng = np.random.default_rng(1)
    frames = codec.num_frames(len(mono) * 16000 // RATE + 1)
    cues = np.stack([rng.uniform(-20, 20, (frames, 32)), rng.uniform(0, 1, (frames, 32))], axis=-1)
    whole = codec.synthesize_side(mono, cues, RATE)
    monkeypatch.setattr(spatial_codec, "SYNTHESIS_BLOCK_SECONDS", 1.0)  # several blocks, each read from the spool
    with AudioSpool(0) as spool:
        spool.append(mono)
        blocks = list(codec.side_blocks(spool, cues, RATE))
    assert len(blocks) == 3 and [start for start, _ in blocks] == sorted(start for start, _ in blocks)
    side = np.concatenate([part for _, part in blocks])
    assert np.max(np.abs(side - whole)) < 1e-3 * np.max(np.abs(whole))


def test_an_asked_width_is_the_width_of_the_song_and_none_leaves_the_models_own():
    from mono2stereo.audio import width_db

    pipeline = Mono2StereoPipeline(tiny_model(spatial=True))
    mono = noise(2.0, scale=0.05)
    free = pipeline(mono, RATE, seed=0, window_seconds=0.5).audio
    for asked in (-20.0, -6.0, 0.0):
        audio = pipeline(mono, RATE, seed=0, window_seconds=0.5, target_width_db=asked).audio
        assert abs(width_db(audio) - asked) < 0.05  # a quiet input: the limiter leaves the side alone
        assert np.max(np.abs(audio.mean(axis=1) - mono)) < 1e-6  # the mid is still the input
    halved = pipeline(mono, RATE, seed=0, window_seconds=0.5, target_width_db=-6.0, width=0.5).audio
    assert abs(width_db(halved) - (-6.0 + 20 * np.log10(0.5))) < 0.05  # `width` scales the matched side
    assert abs(width_db(free) - width_db(pipeline(mono, RATE, seed=0, window_seconds=0.5).audio)) < 1e-9
    assert not any(abs(width_db(free) - asked) < 0.05 for asked in (-20.0, -6.0, 0.0))
