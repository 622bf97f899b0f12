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


def test_a_width_head_model_makes_the_song_as_wide_as_it_predicts_for_the_song():
    import soxr
    import torch

    from mono2stereo.audio import width_db
    from mono2stereo.inference.window_generation import read_windows
    from mono2stereo.inference.windowing import plan_windows
    from mono2stereo.modeling.codec import num_frames

    model = tiny_model(spatial=True, width_head_weight=1.0, context_dropout=1.0).eval()
    pipeline = Mono2StereoPipeline(model)
    mono = noise(2.0, scale=0.05)
    mono[: len(mono) // 2] *= 0.1  # a quiet first half weighs less in the song's width
    window, overlap = pipeline.window_frames(0.5, None)
    resampled = soxr.resample(mono, RATE, model.config.sampling_rate).astype(np.float32)
    predicted = pipeline.predicted_song_width_db(resampled, window, overlap, 32)

    # the song's width: each window's predicted side-to-mid ratio, weighted by the window's mid energy
    hop = model.config.hop_length
    plan = plan_windows(num_frames(len(resampled), hop), window, overlap, 32)
    assert plan.num_segments > 1
    side = mid = 0.0
    for index in range(plan.windows_per_segment):
        _, windows = read_windows(resampled, plan, index, hop)
        unconditional = torch.full((len(windows),), len(model.config.styles))
        context = model.decoder_context(
            model.encode_mono(torch.from_numpy(windows)), unconditional, torch.zeros(len(windows))
        )
        energies = (windows.astype(np.float64) ** 2).sum(axis=1)
        side += float((energies * 10 ** (context.predicted_width_db.detach().double().numpy() / 10)).sum())
        mid += float(energies.sum())
    assert abs(predicted - 10 * np.log10(side / mid)) < 1e-6

    free = pipeline(mono, RATE, seed=0, window_seconds=0.5).audio
    assert abs(width_db(free) - predicted) < 0.05  # made exactly that wide
    asked = pipeline(mono, RATE, seed=0, window_seconds=0.5, target_width_db=predicted).audio
    np.testing.assert_allclose(free, asked, atol=1e-6)  # the same as asking the model for its prediction
