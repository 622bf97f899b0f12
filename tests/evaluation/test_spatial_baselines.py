"""The baselines a spatial model is compared with: mean decoding (regression) and PS-NN (nearest neighbour)."""

import numpy as np
import pytest
import soundfile as sf

from mono2stereo.evaluation.cli import resolve_systems
from mono2stereo.evaluation.psnn import PsnnUpmixer, build_index
from mono2stereo.inference.pipeline import Mono2StereoPipeline
from mono2stereo.modeling.spatial_codec import band_edges_hz, band_of_bins
from mono2stereo.modeling.tiny import tiny_model

RATE = 16000


@pytest.mark.parametrize("decoding", ["mean", "mean-magnitude", "median"])
def test_mean_decoding_ignores_the_seed_and_keeps_the_mid(decoding):
    pipeline = Mono2StereoPipeline(tiny_model(spatial=True))
    mono = (np.random.default_rng(0).standard_normal(RATE) * 0.1).astype(np.float32)
    first = pipeline(mono, RATE, seed=0, decoding=decoding).audio
    assert np.array_equal(first, pipeline(mono, RATE, seed=1, decoding=decoding).audio)
    assert not np.array_equal(first, pipeline(mono, RATE, seed=0).audio)
    assert np.max(np.abs(first.mean(axis=1) - mono)) < 1e-6


def test_mean_decoding_needs_a_spatial_model():
    with pytest.raises(ValueError, match="decoding"):
        Mono2StereoPipeline(tiny_model())(np.zeros(800, np.float32) + 0.1, 8000, decoding="mean")


def test_psnn_copies_the_cues_of_the_training_frame_that_sounds_alike(tmp_path):
    rng = np.random.default_rng(0)
    time = np.arange(3 * RATE) / RATE
    tone = (0.3 * np.sin(2 * np.pi * 440 * time)).astype(np.float32)
    hiss = (0.05 * rng.standard_normal(len(time))).astype(np.float32)
    folder = tmp_path / "train"
    folder.mkdir()
    sf.write(folder / "tone-left.wav", np.stack([tone, 0.25 * tone], axis=1), RATE)  # +12 dB left
    sf.write(folder / "hiss-right.wav", np.stack([0.25 * hiss, hiss], axis=1), RATE)  # +12 dB right
    assert build_index(folder, tmp_path / "index") > 0
    upmixer = PsnnUpmixer(tmp_path / "index")
    tone_cues, hiss_cues = upmixer.cues_for(tone, RATE), upmixer.cues_for(hiss, RATE)
    # every frame of each query finds a frame of its own file: where the sound is, it leans to that file's side
    spec = upmixer.codec.config
    edges = band_edges_hz(spec.num_bands, spec.lowest_hz, spec.highest_hz)
    tone_band = int(band_of_bins(np.array([440.0]), edges)[0])
    assert np.mean(tone_cues[:, tone_band, 0] > 6) > 0.9
    assert np.mean(np.median(hiss_cues[..., 0], axis=1) < -6) > 0.9
    stereo = upmixer(tone, RATE)
    assert np.max(np.abs(stereo.mean(axis=1) - tone)) < 1e-6
    assert np.mean(stereo[:, 0] ** 2) > 4 * np.mean(stereo[:, 1] ** 2)
    systems = resolve_systems([f"psnn:{tmp_path / 'index'}"], num_variants=1)
    assert list(systems) == [f"psnn:{tmp_path / 'index'}"]


def test_mean_level_decoding_averages_level_differences_and_samples_coherences():
    import torch

    from mono2stereo.modeling.generation import generate_stereo_codes

    model = tiny_model(spatial=True).eval()
    features = torch.randn(1, model.config.num_mono_channels, 12)
    values = model.codec.token_values(coherence=False)
    assert values[0::2].isfinite().all() and values[1::2].isnan().all()
    # rows of NaN values are sampled exactly as without mean decoding
    nan_rows = torch.full_like(values, float("nan"))
    assert torch.equal(
        generate_stereo_codes(model, features, seed=3, token_values=nan_rows),
        generate_stereo_codes(model, features, seed=3),
    )
    pipeline = Mono2StereoPipeline(model)
    mono = (np.random.default_rng(0).standard_normal(RATE) * 0.1).astype(np.float32)
    first = pipeline(mono, RATE, seed=0, decoding="mean-level").audio
    assert np.array_equal(first, pipeline(mono, RATE, seed=0, decoding="mean-level").audio)
    assert not np.array_equal(first, pipeline(mono, RATE, seed=1, decoding="mean-level").audio)
    assert not np.array_equal(first, pipeline(mono, RATE, seed=0, decoding="mean").audio)
    assert np.max(np.abs(first.mean(axis=1) - mono)) < 1e-6
