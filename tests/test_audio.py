"""The stereo arithmetic of `mono2stereo.audio`: the same numbers from numpy `(samples, 2)` and torch `(..., 2, n)`."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from mono2stereo import audio
from mono2stereo.audio import CHANNELS_FIRST, CHANNELS_LAST

RNG = np.random.default_rng(0)


def pcm16(shape) -> np.ndarray:
    """Random samples on the 16-bit grid, as soundfile decodes a 16-bit file to float32."""
    return (RNG.integers(-32768, 32768, size=shape) / 32768).astype(np.float32)


def test_fold_and_side_are_half_the_sum_and_half_the_difference_on_either_axis():
    stereo = np.array([[1.0, 0.5], [0.25, -0.75], [0.0, 0.0]], dtype=np.float32)
    np.testing.assert_array_equal(audio.fold(stereo), [0.75, -0.25, 0.0])
    np.testing.assert_array_equal(audio.side(stereo), [0.25, 0.5, 0.0])
    channels_first = torch.from_numpy(stereo.T.copy())
    np.testing.assert_array_equal(audio.fold(channels_first, CHANNELS_FIRST).numpy(), [0.75, -0.25, 0.0])
    np.testing.assert_array_equal(audio.side(channels_first, CHANNELS_FIRST).numpy(), [0.25, 0.5, 0.0])
    np.testing.assert_array_equal(audio.fold(stereo, axis=1), audio.fold(stereo.T, axis=0))  # positive axes too


def test_numpy_and_torch_give_the_same_mid_and_side_for_batches():
    stereo = pcm16((3, 100, 2))  # (batch, samples, 2)
    mid, side = audio.mid_side(stereo, CHANNELS_LAST)
    tensor_mid, tensor_side = audio.mid_side(torch.from_numpy(stereo).transpose(1, 2), CHANNELS_FIRST)
    assert isinstance(tensor_mid, torch.Tensor) and tensor_mid.shape == (3, 100)
    np.testing.assert_array_equal(tensor_mid.numpy(), mid)
    np.testing.assert_array_equal(tensor_side.numpy(), side)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mid_side_round_trip_is_exact_on_a_pcm_grid(dtype):
    stereo = pcm16((4000, 2)).astype(dtype)
    mid, side = audio.mid_side(stereo)
    back = audio.from_mid_side(mid, side)
    assert back.dtype == dtype and back.shape == stereo.shape
    np.testing.assert_array_equal(back, stereo)
    tensor = torch.from_numpy(stereo.T.copy())[None]  # (1, 2, samples)
    back = audio.from_mid_side(*audio.mid_side(tensor, CHANNELS_FIRST), CHANNELS_FIRST)
    assert isinstance(back, torch.Tensor) and back.shape == tensor.shape
    assert torch.equal(back, tensor)


def test_from_mid_side_then_mid_side_gives_the_mid_and_side_back():
    mid, side = pcm16(1000) / 2, pcm16(1000) / 2  # halves: the sums stay on the grid
    stereo = audio.from_mid_side(mid, side)
    assert stereo.shape == (1000, 2)
    np.testing.assert_array_equal(stereo[:, 0], mid + side)
    again_mid, again_side = audio.mid_side(stereo)
    np.testing.assert_array_equal(again_mid, mid)
    np.testing.assert_array_equal(again_side, side)


def test_round_trip_of_any_float_audio_is_within_a_rounding_step():
    stereo = RNG.standard_normal((5000, 2)).astype(np.float32)
    back = audio.from_mid_side(*audio.mid_side(stereo))
    np.testing.assert_allclose(back, stereo, rtol=0, atol=4 * np.finfo(np.float32).eps * np.abs(stereo).max())


def test_width_of_known_signals():
    tone = np.sin(2 * np.pi * np.arange(8000) / 80)
    # R = L / 2: mid 3/4 L, side 1/4 L, a side 1/3 of the mid
    stereo = np.stack([tone, tone / 2], axis=1)
    assert audio.width_db(stereo) == pytest.approx(20 * math.log10(1 / 3), abs=1e-9)
    # L and R independent and equally loud: side and mid equally loud
    noise = RNG.standard_normal((200_000, 2))
    assert audio.width_db(noise) == pytest.approx(0.0, abs=0.05)
    # one channel only: mid and side the same
    assert audio.width_db(np.stack([tone, 0 * tone], axis=1)) == pytest.approx(0.0, abs=1e-9)
    # L = -R: no mid, all side
    assert audio.width_db(np.stack([tone, -tone], axis=1), eps=1e-8) > 60
    # dual mono: no side, minus infinity unless floored
    dual = np.stack([tone, tone], axis=1)
    assert audio.width_db(dual) == -math.inf
    assert audio.width_db(dual, floor_db=-60.0) == -60.0


def test_width_is_the_same_from_numpy_and_torch_on_either_axis():
    stereo = np.stack([pcm16(4000), pcm16(4000) * 0.3], axis=1).astype(np.float64)
    expected = audio.width_db(stereo)
    assert isinstance(expected, float)
    assert audio.width_db(stereo.T, axis=0) == pytest.approx(expected, abs=1e-12)
    batch = torch.from_numpy(np.stack([stereo.T, stereo.T[::-1]]).copy())  # (2, 2, samples); the swap keeps it
    widths = audio.width_db(batch, CHANNELS_FIRST)
    assert isinstance(widths, torch.Tensor) and widths.shape == (2,)
    np.testing.assert_allclose(widths.numpy(), [expected, expected], atol=1e-9)
    per_row = audio.width_db(np.stack([stereo, stereo[:, ::-1]]), CHANNELS_LAST)
    np.testing.assert_allclose(per_row, [expected, expected], atol=1e-12)
    # a regulariser eps keeps digital silence finite: 0 dB
    assert audio.width_db(torch.zeros(2, 100), CHANNELS_FIRST, eps=1e-8).item() == pytest.approx(0.0)


def test_the_wrong_channel_axis_is_named():
    with pytest.raises(ValueError, match="has 100 channels on axis -1"):
        audio.fold(np.zeros((2, 100)))
    with pytest.raises(ValueError, match="not 2"):
        audio.width_db(torch.zeros(3, 100), CHANNELS_FIRST)


def test_fold_level_of_dual_mono_is_zero_and_of_cancelling_channels_far_below():
    tone = np.sin(np.arange(100_000) / 7).astype(np.float32)  # longer than one measuring block
    assert audio.fold_level_db(np.stack([tone, tone], axis=1)) == pytest.approx(0.0, abs=1e-9)
    assert audio.fold_level_db(np.stack([tone, 0 * tone], axis=1)) == pytest.approx(10 * math.log10(0.5), abs=1e-9)
    assert audio.fold_level_db(np.stack([tone, -tone], axis=1)) < -100


def test_peak_gain_brings_the_peak_to_the_one_ceiling():
    assert audio.PEAK_CEILING == 0.999
    quiet = np.full((10, 2), 0.5, dtype=np.float32)
    assert audio.peak_gain(quiet) == 1.0 and audio.input_gain(0.5) == 1.0
    loud = np.array([[1.5, -2.0], [0.1, 0.2]])
    assert audio.peak_gain(loud) == pytest.approx(0.999 / 2.0)
    assert audio.peak_gain(torch.from_numpy(loud)) == audio.peak_gain(loud)
    assert np.abs(loud * audio.peak_gain(loud)).max() <= audio.PEAK_CEILING
    assert audio.peak_gain(np.zeros((0, 2))) == 1.0 and audio.peak_gain(torch.zeros(0)) == 1.0
    assert audio.peak_gain(loud, ceiling=0.5) == pytest.approx(0.25)


def test_every_written_format_is_read_and_its_extensions_are_lower_case():
    assert set(audio.AUDIO_FORMATS) <= set(audio.AUDIO_EXTENSIONS)
    assert all(extension == extension.lower() and extension.startswith(".") for extension in audio.AUDIO_EXTENSIONS)


def test_the_stereo_arithmetic_does_not_import_torch():
    code = "import sys, mono2stereo.audio; print('torch' in sys.modules, 'scipy' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]


def test_every_listed_extension_is_read_and_found_in_a_folder(tmp_path):
    import soundfile as sf

    from mono2stereo.inference.audio_io import read_audio, write_audio
    from mono2stereo.inference.files import expand_inputs

    rate = 48000  # a rate every format takes, Opus too
    stereo = np.stack([np.sin(np.arange(rate // 4) / 9), np.sin(np.arange(rate // 4) / 13)], axis=1) / 2
    for extension in audio.AUDIO_EXTENSIONS:
        path = tmp_path / f"clip{extension}"
        if extension in audio.AUDIO_FORMATS:
            write_audio(path, stereo.astype(np.float32), rate)
        else:  # read, not written: made here with soundfile
            sf.write(path, stereo, rate, format="OGG", subtype="OPUS")
        read = read_audio(path)
        assert read.channels == 2 and read.audio.ndim == 1 and read.audio.shape[0] > rate // 8, extension
    (tmp_path / "notes.txt").write_text("not audio")
    files, missing = expand_inputs([str(tmp_path)])
    assert sorted(Path(name).suffix for name in files) == sorted(audio.AUDIO_EXTENSIONS) and missing == []
