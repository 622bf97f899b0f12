import os

import numpy as np
import pytest
import soundfile as sf

from mono2stereo.inference.audio_io import AudioError, check_audio, read_audio, write_audio
from mono2stereo.inference.resampling import resample


def noise(samples, channels=None, seed=0):
    shape = (samples,) if channels is None else (samples, channels)
    return (np.random.default_rng(seed).standard_normal(shape) * 0.1).astype(np.float32)


@pytest.mark.parametrize("extension", ["wav", "flac", "ogg", "mp3"])
def test_reads_common_formats_as_mono_float32(tmp_path, extension):
    path = tmp_path / f"in.{extension}"
    sf.write(path, noise(16000), 16000)
    source = read_audio(path)
    assert source.audio.dtype == np.float32 and source.audio.ndim == 1
    assert source.sampling_rate == 16000
    assert abs(source.audio.shape[0] - 16000) <= 1200  # mp3 adds encoder padding


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "PCM_32", "FLOAT"])
def test_reads_any_bit_depth(tmp_path, subtype):
    audio = noise(1000)
    sf.write(tmp_path / "in.wav", audio, 44100, subtype=subtype)
    np.testing.assert_allclose(read_audio(tmp_path / "in.wav").audio, audio, atol=1e-4)


def test_stereo_is_folded_to_mid_with_a_note(tmp_path):
    audio = noise(1000, 2)
    sf.write(tmp_path / "in.wav", audio, 8000, subtype="FLOAT")
    source = read_audio(tmp_path / "in.wav")
    assert source.folded and source.channels == 2
    np.testing.assert_allclose(source.audio, audio.mean(1), atol=1e-7)


def test_more_than_two_channels_says_how_to_fold(tmp_path):
    sf.write(tmp_path / "in.wav", noise(100, 6), 8000)
    with pytest.raises(AudioError, match="6 channels.*sox in.wav -c 1 out.wav"):
        read_audio(tmp_path / "in.wav")


def test_nan_samples_are_refused_with_their_time(tmp_path):
    audio = noise(8000)
    audio[4000] = np.nan
    sf.write(tmp_path / "in.wav", audio, 8000, subtype="FLOAT")
    with pytest.raises(AudioError, match=r"1 NaN or infinite samples \(the first at 0.500 s\)"):
        read_audio(tmp_path / "in.wav")
    with pytest.raises(AudioError, match="infinite"):
        check_audio(np.array([0.0, np.inf], np.float32), 8000)


def test_empty_missing_and_damaged_files_are_refused(tmp_path):
    sf.write(tmp_path / "empty.wav", np.zeros(0, np.float32), 8000)
    with pytest.raises(AudioError, match="zero samples"):
        read_audio(tmp_path / "empty.wav")
    with pytest.raises(AudioError, match="does not exist"):
        read_audio(tmp_path / "missing.wav")
    (tmp_path / "text.wav").write_text("not audio")
    with pytest.raises(AudioError, match="cannot read"):
        read_audio(tmp_path / "text.wav")


@pytest.mark.parametrize("extension", ["wav", "flac"])
def test_truncated_files_are_refused(tmp_path, extension):
    sf.write(tmp_path / f"full.{extension}", noise(16000), 16000)
    data = (tmp_path / f"full.{extension}").read_bytes()
    (tmp_path / f"cut.{extension}").write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioError, match="truncated"):
        read_audio(tmp_path / f"cut.{extension}")


def test_streamed_wav_with_unknown_size_is_not_called_truncated(tmp_path):
    sf.write(tmp_path / "in.wav", noise(1000), 8000, subtype="PCM_16")
    data = bytearray((tmp_path / "in.wav").read_bytes())
    data[40:44] = (0xFFFFFFFF).to_bytes(4, "little")  # data chunk size of a streaming writer
    (tmp_path / "streamed.wav").write_bytes(bytes(data))
    assert read_audio(tmp_path / "streamed.wav").audio.shape == (1000,)


def test_write_is_24_bit_keeps_tags_and_refuses_to_overwrite(tmp_path):
    stereo = noise(800, 2)
    for extension in ["wav", "flac"]:
        path = tmp_path / f"out.{extension}"
        write_audio(path, stereo, 22050, tags={"title": "Song", "artist": "Band"})
        with sf.SoundFile(path) as file:
            assert (file.samplerate, file.channels, file.subtype) == (22050, 2, "PCM_24")
            assert (file.title, file.artist) == ("Song", "Band")
        with pytest.raises(AudioError, match="already exists; pass --overwrite"):
            write_audio(path, stereo, 22050)
        write_audio(path, stereo * 0, 22050, overwrite=True)
        assert not sf.read(path)[0].any()
    assert sorted(os.listdir(tmp_path)) == ["out.flac", "out.wav"]  # no temporary files left


def test_a_failed_write_leaves_no_file(tmp_path):
    with pytest.raises(AudioError, match="subtype"):
        write_audio(tmp_path / "out.wav", noise(10, 2), 8000, subtype="VORBIS")
    with pytest.raises(AudioError, match="unknown extension"):
        write_audio(tmp_path / "out.xyz", noise(10, 2), 8000)
    with pytest.raises(AudioError, match="does not exist"):
        write_audio(tmp_path / "no" / "out.wav", noise(10, 2), 8000)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("rates", [(44100, 32000), (8000, 96000), (22050, 8000)])
def test_resampling_keeps_the_length_and_the_timing(rates):
    source, target = rates
    impulse = np.zeros(source, np.float32)
    impulse[source // 2] = 1.0
    there = resample(impulse, source, target)
    assert there.shape == (target,)
    assert abs(int(np.argmax(there)) - target // 2) <= 1  # no delay added
    assert resample(there, target, source, num_samples=source).shape == (source,)
    assert resample(noise(3, 2), source, target).shape[1] == 2
