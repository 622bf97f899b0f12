import numpy as np
import pytest

from mono2stereo.inference.render_modes import DEFAULT_RENDER, render_mode
from mono2stereo.inference.rendering import (
    KEEP_MID_COHERENT,
    MAX_EQUALISATION_DB,
    PEAK_CEILING,
    render,
    render_keep_mid,
)


def noise(shape, seed=0, scale=0.1):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


@pytest.mark.parametrize("mode", ["keep-mid", "parametric"])
def test_the_fold_down_is_the_input(mode):
    mono, generated = noise(8000), noise((8000, 2), seed=1)
    stereo, gain = render(mode, mono, generated, 16000, width=1.0)
    assert gain == 1.0 and stereo.shape == (8000, 2) and stereo.dtype == np.float32
    np.testing.assert_allclose(stereo.mean(1), mono, atol=1e-6)
    assert np.abs(stereo[:, 0] - stereo[:, 1]).max() > 0.01  # and it is stereo


@pytest.mark.parametrize("mode", ["keep-mid", "codec", "parametric"])
def test_width_zero_is_dual_mono(mode):
    stereo, _ = render(mode, noise(4000), noise((4000, 2), seed=1), 8000, width=0.0)
    np.testing.assert_array_equal(stereo[:, 0], stereo[:, 1])


def test_width_scales_the_side():
    mono, generated = noise(4000), noise((4000, 2), seed=1)
    narrow, _ = render("keep-mid", mono, generated, 8000, width=0.5)
    full, _ = render("keep-mid", mono, generated, 8000, width=1.0)
    np.testing.assert_allclose(narrow[:, 0] - narrow[:, 1], 0.5 * (full[:, 0] - full[:, 1]), atol=1e-6)


def test_codec_render_is_the_generated_stereo():
    generated = noise((4000, 2), seed=1)
    np.testing.assert_array_equal(render("codec", noise(4000), generated, 8000)[0], generated)


def test_an_input_that_already_clips_is_turned_down_by_one_gain():
    mono, generated = noise(4000, scale=0.5), noise((4000, 2), seed=1, scale=0.5)  # the mono peaks near 2
    loud, gain = render("keep-mid", mono, generated, 8000)
    assert gain == pytest.approx(PEAK_CEILING / np.abs(mono).max()) and np.abs(loud).max() <= PEAK_CEILING
    np.testing.assert_allclose(loud.mean(1), gain * mono, atol=1e-6)  # the fold-down is the input times the gain


def spectral_tilt(audio, db_at_nyquist, sampling_rate):
    """`audio` through a zero-phase filter whose gain falls linearly in dB to `db_at_nyquist`."""
    spectrum = np.fft.rfft(audio, axis=0)
    frequencies = np.fft.rfftfreq(len(audio), 1 / sampling_rate)
    gain = 10 ** (db_at_nyquist * frequencies / (sampling_rate / 2) / 20)
    return np.fft.irfft(spectrum * gain[:, None], len(audio), axis=0)


def side_error_db(estimate, reference):
    side, true = (estimate[:, 0] - estimate[:, 1]) / 2, (reference[:, 0] - reference[:, 1]) / 2
    return 10 * np.log10(np.sum((side - true) ** 2) / np.sum(true**2))


def test_mid_side_equaliser_undoes_the_codec_colouring():
    # The true stereo has the input as its mid; the "decoded" stereo is it 14 dB quieter and 20 dB duller at the
    # top, as a small codec returns it. Equalising by the mid's loss gives back the true side; the plain side is
    # far from it.
    mono, true_side = noise(32000), noise(32000, seed=1, scale=0.05)
    truth = np.stack([mono + true_side, mono - true_side], axis=1)
    decoded = (0.2 * spectral_tilt(truth, -20.0, 16000)).astype(np.float32)
    equalised = render_keep_mid(mono, decoded, 16000)
    plain = render_keep_mid(mono, decoded, 16000, equalise=False)
    np.testing.assert_allclose(equalised.mean(1), mono, atol=1e-6)
    assert side_error_db(equalised, truth) < -20.0
    assert side_error_db(plain, truth) > -3.0


def delayed(audio, samples):
    return np.concatenate([np.zeros((samples,) + audio.shape[1:], audio.dtype), audio[:-samples]])


def test_mid_side_rebuilds_the_correlated_side_from_the_input():
    # A source panned left (side = 0.5 x mid), decoded by a "codec" that shifts the phase of everything it returns
    # (here a 2 ms delay, as the small codec does not keep phase). The decoded side is in phase with the decoded
    # mid, not with the input: taken as decoded it is uncorrelated with the input; rebuilt from the input (coherent
    # share 1) it is the true side again. Every share keeps the side's energy.
    mono = noise(32000)
    truth = np.stack([1.5 * mono, 0.5 * mono], axis=1)
    decoded = delayed(truth, 32)
    true_energy = np.mean(((truth[:, 0] - truth[:, 1]) / 2) ** 2)
    for share, (low, high) in {0.0: (-3.0, 5.0), KEEP_MID_COHERENT: (-5.0, 5.0), 1.0: (-200.0, -20.0)}.items():
        stereo = render_keep_mid(mono, decoded, 16000, coherent=share)
        np.testing.assert_allclose(stereo.mean(1), mono, atol=1e-6)
        assert low < side_error_db(stereo, truth) < high, share
        side = (stereo[:, 0] - stereo[:, 1]) / 2
        assert 10 * np.log10(np.mean(side**2) / true_energy) == pytest.approx(0.0, abs=1.0), share
    levels = lambda share: (render_keep_mid(mono, decoded, 16000, coherent=share) ** 2).mean(0)  # noqa: E731
    ild = [10 * np.log10(left / right) for left, right in map(levels, (0.0, KEEP_MID_COHERENT, 1.0))]
    assert abs(ild[0]) < 1.0 < ild[1] < ild[2] == pytest.approx(20 * np.log10(3), abs=0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        render_keep_mid(mono, decoded, 16000, coherent=1.5)


def test_a_codec_that_keeps_phase_gets_its_side_back_whatever_the_share():
    mono = noise(32000)
    truth = np.stack([1.5 * mono, 0.5 * mono], axis=1) + noise((32000, 2), seed=3, scale=0.03)  # panned + diffuse
    truth -= (truth.mean(1) - mono)[:, None]  # keep the input as the mid
    for share in (0.0, KEEP_MID_COHERENT, 1.0):
        assert side_error_db(render_keep_mid(mono, truth, 16000, coherent=share), truth) < -40.0, share


def test_mid_side_equaliser_boost_is_bounded():
    mono = noise(16000)
    generated = np.stack([noise(16000, seed=1, scale=1e-6), -noise(16000, seed=1, scale=1e-6)], axis=1)  # no mid
    stereo = render_keep_mid(mono, generated, 16000)
    side = (stereo[:, 0] - stereo[:, 1]) / 2
    boost_db = 20 * np.log10(np.std(side) / np.std(generated[:, 0]))
    assert boost_db == pytest.approx(MAX_EQUALISATION_DB, abs=1.0)


def test_parametric_reproduces_panning_and_decorrelation():
    mono = noise(64000)
    # a source panned 12 dB left for the first half and 12 dB right for the second, fully coherent
    panned = np.concatenate(
        [np.stack([1.6 * mono[:32000], 0.4 * mono[:32000]], 1), np.stack([0.4 * mono[32000:], 1.6 * mono[32000:]], 1)]
    )
    stereo, _ = render("parametric", mono, panned, 32000)
    for half, expected in ((slice(2000, 30000), 12.0), (slice(34000, 62000), -12.0)):
        energy = (stereo[half] ** 2).mean(0)
        assert 10 * np.log10(energy[0] / energy[1]) == pytest.approx(expected, abs=0.5)
        assert np.corrcoef(stereo[half, 0], stereo[half, 1])[0, 1] > 0.99
    diffuse = noise((64000, 2), seed=2)  # independent channels: coherence near zero
    stereo, _ = render("parametric", mono, diffuse, 32000)
    assert abs(np.corrcoef(stereo[:, 0], stereo[:, 1])[0, 1]) < 0.2


def test_unknown_mode_names_the_choices():
    with pytest.raises(ValueError, match="keep-mid, codec, parametric"):
        render("surround", noise(10), noise((10, 2)), 8000)


def test_the_old_name_mid_side_is_the_keep_mid_render():
    # `mid-side` names a channel layout too; as a render mode it is accepted as the old name of `keep-mid`
    mono, generated = noise(4000), noise((4000, 2), seed=1)
    new, new_gain = render("keep-mid", mono, generated, 8000, width=0.7)
    old, old_gain = render("mid-side", mono, generated, 8000, width=0.7)
    assert np.array_equal(new, old) and new_gain == old_gain
    assert render_mode("mid-side") == "keep-mid" == DEFAULT_RENDER
