"""The bad-input matrix of upmixing: every case fails with one line naming what was wrong, or warns and goes on."""

import importlib.util
import os
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
import soundfile as sf

from mono2stereo.cli import main
from mono2stereo.inference import AudioError, read_audio, upmix, write_audio
from mono2stereo.inference.audio_io import check_audio
from mono2stereo.inference.dsp_pipeline import DspPipeline
from mono2stereo.modeling import tiny_model
from tests import REPO

FAST = {"window_seconds": 0.04, "seed": 7}


@pytest.fixture(scope="module")
def model():
    return tiny_model()


@pytest.fixture(scope="module")
def model_path(tmp_path_factory, model):
    path = tmp_path_factory.mktemp("model") / "tiny"
    model.save_pretrained(path)
    return str(path)


def noise(samples=1600, seed=0):
    return (0.1 * np.random.default_rng(seed).standard_normal(samples)).astype(np.float32)


def run(capsys, *argv):
    code = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return code, captured.err


# Numeric settings: (API keyword, value, CLI option, CLI value, what the message names)
BAD_SETTINGS = [
    ("temperature", float("nan"), "--temperature", "nan", "temperature=nan (--temperature)"),
    ("temperature", -1.0, "--temperature", "-1", "temperature=-1.0 (--temperature)"),
    ("guidance_scale", float("nan"), "--guidance-scale", "nan", "guidance_scale=nan (--guidance-scale)"),
    ("guidance_scale", 1e6, "--guidance-scale", "1e6", "guidance_scale=1000000.0 (--guidance-scale)"),
    ("width", 1e9, "--width", "1e9", "width=1000000000.0 (--width)"),
    ("width", float("nan"), "--width", "nan", "width=nan (--width)"),
    ("width", float("inf"), "--width", "inf", "width=inf (--width)"),
    ("seed", 10**23, "--seed", str(10**23), "seed=100000000000000000000000 (--seed)"),
    ("seed", -1, "--seed", "-1", "seed=-1 (--seed)"),
    ("window_seconds", float("nan"), "--window", "nan", "window_seconds=nan (--window)"),
    ("overlap_seconds", float("inf"), "--overlap", "inf", "overlap_seconds=inf (--overlap)"),
    ("num_variants", 0, "--variants", "0", "num_variants=0 (--variants)"),
    ("num_variants", 100000, "--variants", "100000", "num_variants=100000 (--variants)"),
    ("batch_size", 0, "--batch-size", "0", "batch_size=0 (--batch-size)"),
]
API_ONLY = [
    ("seed", 1e23, "seed=1e+23 (--seed)"),
    ("top_p", 2.0, "top_p=2.0"),
    ("top_k", -1, "top_k=-1"),
    ("target_width_db", float("nan"), "target_width_db=nan"),
    ("channel", "both", "channel='both' (--channel)"),
]


@pytest.mark.parametrize(("name", "value", "expected"), [(n, v, e) for n, v, _, _, e in BAD_SETTINGS] + API_ONLY)
def test_the_api_refuses_a_bad_setting_by_name(model, name, value, expected):
    settings = {**FAST, name: value}
    with pytest.raises(ValueError) as error:
        upmix(noise(), 8000, model=model, **settings)
    assert expected in str(error.value)


@pytest.mark.parametrize(("option", "value", "expected"), [(o, v, e) for _, _, o, v, e in BAD_SETTINGS])
def test_the_cli_refuses_a_bad_setting_in_one_line_before_loading_the_model(tmp_path, capsys, option, value, expected):
    sf.write(tmp_path / "in.wav", noise(), 8000)
    missing_model = tmp_path / "no-such-model"  # the setting is checked first: the model is never looked for
    code, err = run(
        capsys, "upmix", tmp_path / "in.wav", "-o", tmp_path / "out.wav", "--model", missing_model, option, value
    )
    assert code == 1
    assert err.count("\n") == 1 and expected in err, err
    assert not (tmp_path / "out.wav").exists()


def test_a_dsp_upmixer_refuses_an_absurd_width():
    pytest.importorskip("mono2stereo.dsp.upmixers")
    with pytest.raises(ValueError, match=r"width=1000000000.0 \(--width\) must be a number from 0 to"):
        DspPipeline("dsp:dual")(noise(), 8000, width=1e9)


@pytest.mark.parametrize(
    ("audio", "expected"),
    [
        ((noise() * 32767).astype(np.int16), "holds int16 samples; pass float samples in [-1, 1], e.g. audio / 32768"),
        ((noise() * 2**31).astype(np.int32), "audio / 2147483648"),
        (noise().astype(np.complex64), "is complex"),
    ],
)
def test_integer_and_complex_arrays_are_refused_with_what_to_do(model, audio, expected):
    with pytest.raises(AudioError, match=expected.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")):
        check_audio(audio, 8000)
    with pytest.raises(ValueError):
        upmix(audio, 8000, model=model, **FAST)


# Fold-downs that cancel


def inverted_stereo(samples=1600):
    left = noise(samples)
    return np.stack([left, -left], axis=1)


def test_a_cancelling_fold_down_warns_and_one_channel_can_be_chosen(tmp_path, model_path, capsys):
    sf.write(tmp_path / "inverted.wav", inverted_stereo(), 8000, subtype="FLOAT")
    code, err = run(capsys, "upmix", tmp_path / "inverted.wav", "-o", tmp_path / "out.wav", "--model", model_path)
    assert code == 0, err
    assert "dB below the channels" in err and "--channel left" in err
    code, err = run(
        capsys, "upmix", tmp_path / "inverted.wav", "-o", tmp_path / "left.wav", "--model", model_path,
        "--channel", "left", "--window", "0.04",
    )  # fmt: skip
    assert code == 0 and "dB below" not in err, err
    stereo, _ = sf.read(tmp_path / "left.wav")
    assert np.abs(stereo.mean(axis=1)).max() > 0.01  # the music, not the silence of the fold-down


def test_the_api_warns_about_a_cancelling_fold_down(model):
    with pytest.warns(UserWarning, match='dB below the channels.*channel="left"'):
        upmix(inverted_stereo(), 8000, model=model, **FAST)
    stereo, _ = upmix(inverted_stereo(), 8000, model=model, channel="right", **FAST)
    assert np.abs(stereo.mean(axis=1)).max() > 0.01


def test_an_ordinary_stereo_fold_down_does_not_warn(model, recwarn):
    audio = np.stack([noise(seed=1), noise(seed=2)], axis=1)
    upmix(audio, 8000, model=model, **FAST)
    assert not [w for w in recwarn if "dB below" in str(w.message)]


# Files


def test_a_folder_named_like_a_file_leaves_no_output_folder(tmp_path, model_path, capsys):
    (tmp_path / "x.wav").mkdir()
    code, err = run(capsys, "upmix", tmp_path / "x.wav", "-o", tmp_path / "out.wav", "--model", model_path)
    assert code == 1 and "holds no audio files" in err
    assert not (tmp_path / "out.wav").exists()


@pytest.fixture(scope="module")
def damaged_mp3s(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mp3")
    tone = 0.3 * np.sin(np.arange(24000) / 8000 * 2 * np.pi * 440)
    sf.write(folder / "good.mp3", tone, 8000)
    data = bytearray((folder / "good.mp3").read_bytes())
    rng = np.random.default_rng(0)
    for position in range(200, len(data), 97):
        data[position] = rng.integers(256)
    (folder / "corrupt.mp3").write_bytes(bytes(data))
    (folder / "noise.mp3").write_bytes(rng.bytes(20000))
    return folder


def test_a_corrupt_mp3_prints_no_decoder_noise(damaged_mp3s, capfd):
    read_audio(damaged_mp3s / "corrupt.mp3")  # what the decoder can recover is read
    assert capfd.readouterr().err == ""


def test_an_mp3_of_noise_says_it_is_not_audio(damaged_mp3s, capfd):
    with pytest.raises(AudioError) as error:
        read_audio(damaged_mp3s / "noise.mp3")
    assert "not audio that soundfile can decode" in str(error.value) and "pipe" not in str(error.value)
    assert capfd.readouterr().err == ""


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_killed_writers_partial_file_is_removed_on_the_next_write(tmp_path):
    stale = tmp_path / f".out.wav.mono2stereo-{dead_pid()}-abc123.part"
    stale.write_bytes(b"half a file")
    other = tmp_path / f".other.wav.mono2stereo-{dead_pid()}-abc123.part"  # another output's: not ours to remove
    other.write_bytes(b"half a file")
    live = tmp_path / f".out.wav.mono2stereo-{os.getppid()}-abc123.part"  # a live writer's: kept
    live.write_bytes(b"being written")
    write_audio(tmp_path / "out.wav", np.zeros((100, 2), np.float32), 8000)
    assert not stale.exists() and other.exists() and live.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == ["out.wav"]


@pytest.mark.slow  # a fresh interpreter imports torch
def test_a_killed_write_leaves_a_partial_file_named_after_its_output(tmp_path):
    script = (
        "import os, numpy as np, soundfile as sf\n"
        "from mono2stereo.inference import audio_io\n"
        "real = sf.SoundFile.write\n"
        "def die(self, data):\n"
        "    real(self, data[:10]); self.flush(); os._exit(9)\n"
        "sf.SoundFile.write = die\n"
        f"audio_io.write_audio({str(tmp_path / 'out.wav')!r}, np.zeros((100, 2), np.float32), 8000)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 9
    (left,) = [p for p in tmp_path.iterdir()]
    assert left.name.startswith(".out.wav.mono2stereo-") and left.name.endswith(".part")
    write_audio(tmp_path / "out.wav", np.zeros((100, 2), np.float32), 8000)
    assert [p.name for p in tmp_path.iterdir()] == ["out.wav"]


# The Space's uploads


def load_app():
    pytest.importorskip("gradio")
    spec = importlib.util.spec_from_file_location("space_app_bad_inputs", REPO / "space" / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def long_silent_flac(tmp_path_factory):
    """A small FLAC that decodes to 5 minutes of 96 kHz stereo (about 230 MB as float32)."""
    path = tmp_path_factory.mktemp("upload") / "long.flac"
    block = np.zeros((96000 * 10, 2), dtype=np.int16)
    with sf.SoundFile(path, "w", 96000, 2, "PCM_16") as file:
        for _ in range(30):
            file.write(block)
    assert os.path.getsize(path) < 2_000_000
    return path


@pytest.mark.slow  # gradio's import
def test_the_space_decodes_only_the_first_seconds_of_a_long_upload(long_silent_flac, monkeypatch):
    app = load_app()
    monkeypatch.setattr(app.gr, "Warning", lambda message: None)
    tracemalloc.start()
    try:
        mono, original, rate, notice = app.read_upload(str(long_silent_flac), 2.0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rate == 96000 and mono.shape == (192000,) and original.shape == (192000, 2)
    assert "300.0 s long" in notice
    assert peak < 20_000_000  # 2 s of stereo float32 is 1.5 MB; the whole file would be 230 MB


@pytest.mark.slow  # gradio's import, when alone
def test_the_space_refuses_an_absurd_sample_rate_from_the_header(tmp_path):
    app = load_app()
    path = tmp_path / "fast.wav"
    sf.write(path, np.zeros(1000, np.float32), 8000, subtype="PCM_16")
    data = bytearray(path.read_bytes())
    data[24:28] = (4_000_000).to_bytes(4, "little")  # the fmt chunk's sample rate
    data[28:32] = (8_000_000).to_bytes(4, "little")  # and its byte rate
    path.write_bytes(bytes(data))
    with pytest.raises(app.gr.Error, match="4000000 Hz"):
        app.read_upload(str(path), 30.0)


@pytest.mark.slow  # gradio's import, when alone
def test_the_space_warns_about_a_cancelling_fold_down(tmp_path, monkeypatch):
    app = load_app()
    shown = []
    monkeypatch.setattr(app.gr, "Warning", shown.append)
    sf.write(tmp_path / "inverted.wav", inverted_stereo(), 8000, subtype="FLOAT")
    _, _, _, notice = app.read_upload(str(tmp_path / "inverted.wav"), 30.0)
    assert "dB below the channels" in notice and shown == [notice]
