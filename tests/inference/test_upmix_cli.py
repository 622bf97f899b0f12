import os

import numpy as np
import pytest
import soundfile as sf

from mono2stereo.cli import main
from mono2stereo.inference import Mono2StereoPipeline, upmix
from mono2stereo.modeling import tiny_model

FAST = ["--window", "0.04", "--seed", "7"]


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "tiny"
    tiny_model().save_pretrained(path)
    return str(path)


def write_noise(path, samples=2000, rate=16000, channels=None, seed=0, **kwargs):
    shape = (samples,) if channels is None else (samples, channels)
    audio = (np.random.default_rng(seed).standard_normal(shape) * 0.1).astype(np.float32)
    sf.write(path, audio, rate, **kwargs)
    return audio


def run(capsys, *argv):
    code = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_one_file_to_a_file_path_keeps_rate_length_and_tags(tmp_path, model_path, capsys):
    source = tmp_path / "song.flac"
    with sf.SoundFile(source, "w", 22050, 1, "PCM_16") as file:
        file.title, file.artist = "Old Song", "A Band"
        file.write(np.random.default_rng(0).standard_normal(3000).astype(np.float32) * 0.1)
    code, _, err = run(capsys, "upmix", source, "-o", tmp_path / "out" / "song.wav", "--model", model_path, *FAST)
    assert code == 0, err
    with sf.SoundFile(tmp_path / "out" / "song.wav") as file:
        assert (file.samplerate, file.channels, file.frames, file.subtype) == (22050, 2, 3000, "PCM_24")
        assert (file.title, file.artist) == ("Old Song", "A Band")


def test_cli_and_python_give_the_same_output_for_the_same_seed(tmp_path, model_path, capsys):
    audio = write_noise(tmp_path / "in.wav", subtype="FLOAT")
    code, _, err = run(
        capsys, "upmix", tmp_path / "in.wav", "-o", tmp_path / "out.wav", "--model", model_path,
        "--subtype", "FLOAT", "--width", "0.7", *FAST,
    )  # fmt: skip
    assert code == 0, err
    from_cli, rate = sf.read(tmp_path / "out.wav", dtype="float32")
    from_python, python_rate = upmix(audio, 16000, model=model_path, width=0.7, window_seconds=0.04, seed=7)
    assert rate == python_rate == 16000
    np.testing.assert_array_equal(from_cli, from_python)


def test_folders_globs_and_variants(tmp_path, model_path, capsys):
    (tmp_path / "album").mkdir()
    write_noise(tmp_path / "album" / "a.wav")
    write_noise(tmp_path / "album" / "b.flac", seed=1)
    (tmp_path / "album" / "notes.txt").write_text("not audio")
    write_noise(tmp_path / "c.ogg", seed=2)
    code, _, err = run(
        capsys, "upmix", tmp_path / "album", str(tmp_path / "*.ogg"), "-o", tmp_path / "out",
        "--model", model_path, "--variants", "2", *FAST,
    )  # fmt: skip
    assert code == 0, err
    names = ["a-v1.wav", "a-v2.wav", "b-v1.flac", "b-v2.flac", "c-v1.ogg", "c-v2.ogg"]
    assert sorted(os.listdir(tmp_path / "out")) == names
    first, second = sf.read(tmp_path / "out" / "a-v1.wav")[0], sf.read(tmp_path / "out" / "a-v2.wav")[0]
    assert np.abs(first - second).max() > 1e-3


def test_an_existing_output_is_kept_without_overwrite(tmp_path, model_path, capsys):
    write_noise(tmp_path / "in.wav")
    (tmp_path / "out.wav").write_bytes(b"keep me")
    code, _, err = run(capsys, "upmix", tmp_path / "in.wav", "-o", tmp_path / "out.wav", "--model", model_path)
    assert code == 1 and "already exists; pass --overwrite" in err
    assert (tmp_path / "out.wav").read_bytes() == b"keep me"
    code, _, err = run(capsys, "upmix", tmp_path / "in.wav", "-o", tmp_path / "out.wav", "--model", model_path,
                       "--overwrite", *FAST)  # fmt: skip
    assert code == 0 and sf.info(tmp_path / "out.wav").channels == 2


def make_bad_input(tmp_path, kind):
    path = tmp_path / f"{kind}.wav"
    if kind == "missing":
        pass
    elif kind == "unreadable":
        path.write_text("this is not audio")
    elif kind == "truncated":
        write_noise(path, samples=16000)
        path.write_bytes(path.read_bytes()[:20000])
    elif kind == "empty":
        sf.write(path, np.zeros(0, np.float32), 16000)
    elif kind == "six-channels":
        write_noise(path, samples=500, channels=6)
    elif kind == "nan":
        audio = np.zeros(500, np.float32)
        audio[250] = np.nan
        sf.write(path, audio, 16000, subtype="FLOAT")
    return path


@pytest.mark.parametrize(
    "kind, message",
    [
        ("missing", "missing.wav does not exist"),
        ("unreadable", "cannot read"),
        ("truncated", "truncated"),
        ("empty", "no audio (zero samples)"),
        ("six-channels", "6 channels; mono2stereo takes mono or stereo (fold it down first"),
        ("nan", "NaN or infinite samples"),
    ],
)
def test_bad_input_gets_one_clear_line_and_no_file(tmp_path, model_path, capsys, kind, message):
    path = make_bad_input(tmp_path, kind)
    out = tmp_path / "out"
    code, _, err = run(capsys, "upmix", path, "-o", out, "--model", model_path, *FAST)
    assert code == 1
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("mono2stereo: error: ") and message in lines[0]
    assert "Traceback" not in err
    assert not out.exists() or os.listdir(out) == []


def test_an_output_folder_that_cannot_be_made_is_an_error(tmp_path, model_path, capsys):
    write_noise(tmp_path / "in.wav")
    (tmp_path / "file").write_text("a file, not a folder")
    code, _, err = run(capsys, "upmix", tmp_path / "in.wav", "-o", tmp_path / "file" / "out", "--model", model_path)
    assert code == 1 and "cannot create the output folder" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only folders")
def test_a_read_only_output_folder_is_an_error(tmp_path, model_path, capsys):
    write_noise(tmp_path / "in.wav")
    (tmp_path / "locked").mkdir(mode=0o555)
    code, _, err = run(capsys, "upmix", tmp_path / "in.wav", "-o", tmp_path / "locked", "--model", model_path)
    assert code == 1 and "not writable" in err and os.listdir(tmp_path / "locked") == []


def test_one_bad_file_in_a_batch_does_not_stop_the_others(tmp_path, model_path, capsys):
    (tmp_path / "in").mkdir()
    write_noise(tmp_path / "in" / "good.wav")
    (tmp_path / "in" / "bad.wav").write_text("not audio")
    code, _, err = run(capsys, "upmix", tmp_path / "in", "-o", tmp_path / "out", "--model", model_path, *FAST)
    assert code == 1
    assert "cannot read" in err and "bad.wav" in err and "1 of 2 inputs failed" in err
    assert os.listdir(tmp_path / "out") == ["good.wav"]


@pytest.mark.parametrize(
    "options, message",
    [
        (["--width", "-1"], "width=-1.0 (--width) must be a number from 0 to 4"),
        (["--style", "disco"], "unknown style 'disco'"),
        (["--window", "5"], "the model's window"),
        (["--target-width-db", "nan"], "target_width_db=nan (--target-width-db)"),
    ],
)
def test_bad_options_fail_before_any_work(tmp_path, model_path, capsys, options, message):
    write_noise(tmp_path / "in.wav")
    code, _, err = run(
        capsys, "upmix", tmp_path / "in.wav", "-o", tmp_path / "out.wav", "--model", model_path, *options
    )
    assert code == 1 and message in err and "Traceback" not in err
    assert not (tmp_path / "out.wav").exists()


def test_without_a_default_model_installed_the_error_says_which_model_to_pass(tmp_path, capsys, monkeypatch):
    from huggingface_hub import constants

    from mono2stereo.inference import default_model

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(default_model, "SHIPPED_MODEL_DIR", tmp_path / "not-installed")
    monkeypatch.delenv("MONO2STEREO_DEFAULT_MODEL", raising=False)
    write_noise(tmp_path / "in.wav")
    code, _, err = run(capsys, "upmix", tmp_path / "in.wav", "-o", tmp_path / "out.wav")
    assert code == 1 and "pass --model PATH_OR_HUB_ID" in err and "Traceback" not in err
    assert not (tmp_path / "out.wav").exists()


def test_a_model_that_does_not_exist_is_one_line(tmp_path, capsys):
    write_noise(tmp_path / "in.wav")
    code, _, err = run(capsys, "upmix", tmp_path / "in.wav", "-o", tmp_path / "o.wav", "--model", tmp_path / "none")
    assert code == 1 and "does not exist" in err and len(err.strip().splitlines()) == 1


def test_info_prints_the_model_summary(model_path, capsys):
    code, out, _ = run(capsys, "info", model_path)
    assert code == 0
    model = Mono2StereoPipeline.from_pretrained(model_path).model
    assert "sample rate: 8000 Hz" in out and "frame rate: 500 frames/s" in out
    assert "window: 50 frames (0.1 s)" in out and "styles: modern, vintage, wide, narrow" in out
    assert "channel layout: left-right" in out
    assert f"{model.num_transformer_parameters():,} transformer" in out


def test_an_asked_width_reaches_a_spatial_model_and_is_the_files_width(tmp_path, capsys):
    from mono2stereo.audio import width_db

    tiny_model(spatial=True).save_pretrained(tmp_path / "spatial")
    write_noise(tmp_path / "in.wav", samples=16000, subtype="FLOAT")
    code, _, err = run(
        capsys, "upmix", tmp_path / "in.wav", "-o", tmp_path / "out.wav", "--model", tmp_path / "spatial",
        "--target-width-db", "-9", "--subtype", "FLOAT", "--seed", "0",
    )  # fmt: skip
    assert code == 0, err
    assert abs(width_db(sf.read(tmp_path / "out.wav", dtype="float32")[0]) - -9.0) < 0.05
