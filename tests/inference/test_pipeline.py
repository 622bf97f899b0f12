import numpy as np
import pytest
import torch

import mono2stereo
from mono2stereo.inference import Mono2StereoPipeline, upmix
from mono2stereo.inference.pipeline import CODEC_BATCH_SIZE, SPATIAL_BATCH_SIZE
from mono2stereo.inference.windowing import WindowPlan
from mono2stereo.modeling import tiny_model

WINDOW = 0.04  # 20 frames of the tiny 500 frames/s codec
OVERLAP = 0.01  # 5 frames


@pytest.fixture(scope="module")
def pipeline():
    return Mono2StereoPipeline(tiny_model())


def noise(samples, seed=0, scale=0.1):
    return (np.random.default_rng(seed).standard_normal(samples) * scale).astype(np.float32)


def si_sdr(estimate, reference):
    reference = reference.astype(np.float64)
    target = np.dot(estimate, reference) / np.dot(reference, reference) * reference
    return 10 * np.log10(np.sum(target**2) / np.sum((estimate - target) ** 2))


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100, 48000, 96000])
def test_round_trip_keeps_length_and_rate(pipeline, rate):
    audio = noise(int(0.13 * rate) + 7)
    output = pipeline(audio, rate, seed=0, window_seconds=WINDOW, overlap_seconds=OVERLAP)
    assert output.sampling_rate == rate
    assert output.audio.shape == (audio.shape[0], 2) and output.audio.dtype == np.float32
    assert si_sdr(output.audio.mean(1), audio) >= 60


def test_mid_side_fold_down_is_the_input_and_width_zero_is_dual_mono(pipeline):
    audio = noise(4410, scale=0.3)
    stereo, rate = upmix(audio, 44100, model=pipeline, seed=1, window_seconds=WINDOW)
    assert rate == 44100
    assert si_sdr(stereo.mean(1), audio) >= 60
    assert np.abs(stereo[:, 0] - stereo[:, 1]).max() > 1e-3
    dual, _ = upmix(audio, 44100, model=pipeline, seed=1, width=0.0, window_seconds=WINDOW)
    np.testing.assert_array_equal(dual[:, 0], dual[:, 1])


def test_the_peak_gain_is_reported_and_keeps_the_fold_down_an_exact_copy(pipeline):
    audio = noise(2000, scale=0.6)
    audio[100] = 1.0  # full scale: no room for a side
    output = pipeline(audio, 8000, seed=0, window_seconds=WINDOW)
    assert output.peak_gain[0] < 1.0
    np.testing.assert_allclose(output.audio.mean(1), output.peak_gain[0] * audio, atol=1e-6)


def test_same_seed_same_output_and_variants_differ(pipeline):
    audio = noise(2000)
    first, _ = upmix(audio, 8000, model=pipeline, seed=3, window_seconds=WINDOW)
    again, _ = upmix(audio, 8000, model=pipeline, seed=3, window_seconds=WINDOW)
    np.testing.assert_array_equal(first, again)
    variants, _ = upmix(audio, 8000, model=pipeline, seed=3, num_variants=3, window_seconds=WINDOW)
    assert variants.shape == (3, 2000, 2)
    assert np.abs(variants[0] - variants[1]).max() > 1e-3
    for variant in variants:
        np.testing.assert_allclose(variant.mean(1), audio, atol=1e-6)


@pytest.mark.parametrize("render", ["keep-mid", "codec"])
def test_variant_k_is_the_single_run_of_seed_plus_k(pipeline, render):
    audio = noise(2000)  # five windows: several segments side by side, filling the batch
    settings = dict(window_seconds=WINDOW, overlap_seconds=OVERLAP, batch_size=4, render=render)
    variants = pipeline(audio, 8000, seed=3, num_variants=3, **settings).audio
    for k, variant in enumerate(variants):
        np.testing.assert_array_equal(variant, pipeline(audio, 8000, seed=3 + k, **settings).audio)


def test_silence_stays_silent_and_a_sample_shorter_than_a_frame_works(pipeline):
    silence = pipeline(np.zeros(3000, np.float32), 16000, seed=0)
    assert silence.audio.shape == (3000, 2) and not silence.audio.any()
    tiny = pipeline(np.array([0.1, -0.2, 0.3], np.float32), 44100, seed=0)  # 3 samples < one 16-sample frame
    assert tiny.audio.shape == (3, 2)
    np.testing.assert_allclose(tiny.audio.mean(1), [0.1, -0.2, 0.3], atol=1e-6)


def test_stereo_input_is_folded(pipeline):
    stereo_in = np.stack([noise(1000), noise(1000, seed=1)], axis=1)
    output = pipeline(stereo_in, 8000, seed=0)
    assert output.folded
    np.testing.assert_allclose(output.audio.mean(1), stereo_in.mean(1), atol=1e-6)


@pytest.mark.parametrize(
    "settings, message",
    [
        (dict(width=-0.5), r"width=-0.5 \(--width\) must be a number from 0 to 4"),
        (dict(render="5.1"), "unknown render mode '5.1'"),
        (dict(style="disco"), "unknown style 'disco'; this model knows modern"),
        (dict(num_variants=0), "num_variants=0"),
        (dict(window_seconds=1.0), "the model's window"),
        (dict(window_seconds=WINDOW, overlap_seconds=WINDOW), "less than the window"),
        (dict(seed=1, generator=torch.Generator()), "either seed or generator"),
    ],
)
def test_bad_settings_are_named(pipeline, settings, message):
    with pytest.raises(ValueError, match=message):
        pipeline(noise(100), 8000, **settings)


def test_bad_audio_is_refused(pipeline):
    with pytest.raises(ValueError, match="zero samples"):
        pipeline(np.zeros(0, np.float32), 8000)
    with pytest.raises(ValueError, match="NaN or infinite"):
        pipeline(np.array([0.0, np.nan], np.float32), 8000)
    with pytest.raises(ValueError, match="looks like \\(channels, samples\\)"):
        pipeline(np.zeros((2, 500), np.float32), 8000)


def test_style_and_target_width_reach_the_model():
    model = tiny_model(initializer_range=0.5)
    audio = noise(800)
    base = Mono2StereoPipeline(model)(audio, 8000, seed=0).audio
    styled = Mono2StereoPipeline(model)(audio, 8000, seed=0, style="vintage").audio
    widened = Mono2StereoPipeline(model)(audio, 8000, seed=0, target_width_db=3.0).audio
    assert np.abs(base - styled).max() > 1e-4 and np.abs(base - widened).max() > 1e-4


def test_windows_continue_from_the_previous_windows_codes(pipeline, monkeypatch):
    calls = []
    original = pipeline.model.generate

    def recording_generate(mono_codes, **kwargs):
        codes = original(mono_codes, **kwargs)
        calls.append((kwargs.get("prefix_codes"), codes))
        return codes

    monkeypatch.setattr(pipeline.model, "generate", recording_generate)
    # 5 + 3 * 15 frames: three windows in one segment, then with two segments side by side.
    for batch_size, segments in [(1, 1), (2, 2)]:
        calls.clear()
        pipeline(noise(50 * 16), 8000, seed=0, window_seconds=WINDOW, overlap_seconds=OVERLAP, batch_size=batch_size)
        assert calls[0][0] is None and calls[0][1].shape[0] == segments
        for (_, previous), (prefix, codes) in zip(calls, calls[1:]):
            torch.testing.assert_close(prefix, previous[..., -5:])
            torch.testing.assert_close(codes[..., :5], previous[..., -5:])  # the overlap agrees exactly


def test_batching_does_not_grow_with_the_song(pipeline, monkeypatch):
    rows = []
    original = pipeline.model.encode_mono
    monkeypatch.setattr(pipeline.model, "encode_mono", lambda audio: rows.append(audio.shape) or original(audio))
    pipeline(noise(16000), 8000, seed=0, window_seconds=WINDOW, batch_size=4)
    assert max(shape[0] for shape in rows) <= 4 and max(shape[1] for shape in rows) == 20 * 16


def test_variants_are_generated_one_at_a_time_in_at_most_a_batch(pipeline, monkeypatch):
    rows = []
    original = pipeline.model.encode_mono
    monkeypatch.setattr(pipeline.model, "encode_mono", lambda audio: rows.append(audio.shape[0]) or original(audio))
    output = pipeline(noise(800), 8000, seed=0, num_variants=5, batch_size=2)
    assert max(rows) <= 2 and output.audio.shape == (5, 800, 2)
    assert len({variant.tobytes() for variant in output.audio}) == 5  # and they are five different variants


def smooth_stand_in_decoder(model):
    """Decodes every window to a slow sine plus an offset of its own, as unrelated generations would differ."""
    offsets = iter(np.tile([0.25, -0.25], 100))

    def decode_stereo(codes, num_samples=None):
        time = torch.arange(num_samples) / model.config.sampling_rate
        rows = [0.05 * torch.sin(2 * np.pi * 20 * time) + next(offsets) for _ in range(codes.shape[0])]
        return torch.stack([torch.stack([row, -row]) for row in rows])

    return decode_stereo


def max_jump(stereo):
    return np.abs(np.diff(stereo, axis=0)).max()


@pytest.mark.parametrize("batch_size", [1, 3])  # seams inside one segment; seams between segments
def test_three_windows_have_no_clicks_at_the_seams(pipeline, monkeypatch, batch_size):
    time = np.arange(50 * 16) / 8000  # 50 frames: exactly three windows of 20 with an overlap of 5
    audio = (0.5 * np.sin(2 * np.pi * 220 * time)).astype(np.float32)
    monkeypatch.setattr(pipeline.model, "decode_stereo", smooth_stand_in_decoder(pipeline.model))
    settings = dict(seed=0, window_seconds=WINDOW, overlap_seconds=OVERLAP, batch_size=batch_size)
    margin = 0.03
    crossfaded = pipeline(audio, 8000, **settings).audio
    assert max_jump(crossfaded) <= max_jump(audio) + margin

    # The check can fail: with the crossfades cut hard at their middle, the seams click.
    original = WindowPlan.window_envelope
    monkeypatch.setattr(WindowPlan, "window_envelope", lambda *args: np.round(original(*args)))
    hard_cut = pipeline(audio, 8000, **settings).audio
    assert max_jump(hard_cut) > max_jump(audio) + 10 * margin


def test_top_level_upmix_accepts_a_saved_folder(tmp_path):
    tiny_model().save_pretrained(tmp_path / "model")
    stereo, rate = mono2stereo.upmix(noise(800), 8000, model=str(tmp_path / "model"), seed=0)
    assert stereo.shape == (800, 2) and rate == 8000


def test_no_model_means_the_default_model(tmp_path, monkeypatch):
    tiny_model(seed=2).save_pretrained(tmp_path / "default")
    monkeypatch.setenv("MONO2STEREO_DEFAULT_MODEL", str(tmp_path / "default"))
    stereo, rate = mono2stereo.upmix(noise(800), 8000, seed=0)
    expected, _ = mono2stereo.upmix(noise(800), 8000, model=str(tmp_path / "default"), seed=0)
    assert rate == 8000 and np.array_equal(stereo, expected)


def test_missing_model_folder_is_named(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        mono2stereo.upmix(noise(100), 8000, model=str(tmp_path / "nowhere"))


def test_dsp_models_dispatch_to_the_baselines():
    baselines = pytest.importorskip("mono2stereo.dsp.upmixers")
    audio = noise(4000)
    stereo, rate = upmix(audio, 8000, model="dsp:dual")
    expected = baselines.upmix_dsp("dual", audio, 8000, width=1.0)
    assert rate == 8000
    np.testing.assert_allclose(stereo, expected, atol=1e-6)


@pytest.mark.parametrize("spatial, expected", [(False, CODEC_BATCH_SIZE), (True, SPATIAL_BATCH_SIZE)])
def test_the_default_batch_is_the_kind_of_models_own(monkeypatch, spatial, expected):
    pipeline = Mono2StereoPipeline(tiny_model(spatial=spatial))
    assert pipeline.default_batch_size == expected
    rows = []
    original = pipeline.model.generate
    monkeypatch.setattr(pipeline.model, "generate", lambda mono, **kw: rows.append(len(mono)) or original(mono, **kw))
    hop = pipeline.model.config.hop_length  # both tiny codecs run at 8 kHz, the input's rate
    frame = hop / pipeline.model.config.sampling_rate
    window, overlap = 8 * frame, 2 * frame  # windows of 6 new frames: 64 of them, in 32 or 8 segments
    audio = noise((64 * 6 + 2) * hop)
    pipeline(audio, 8000, seed=0, window_seconds=window, overlap_seconds=overlap)
    assert max(rows) == expected
    rows.clear()
    pipeline(audio, 8000, seed=0, window_seconds=window, overlap_seconds=overlap, batch_size=3)
    assert max(rows) == 3
