"""The `mono2stereo eval` command on a two-track temporary reference set."""

import json

import numpy as np
import pytest
import soundfile as sf

from mono2stereo.cli import main

SAMPLING_RATE = 16000


def write_reference(path, seed: int, seconds: float = 1.5) -> None:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SAMPLING_RATE)) / SAMPLING_RATE
    tone = 0.2 * np.sin(2 * np.pi * 220 * t) + 0.1 * np.sin(2 * np.pi * 660 * t)
    ambience = 0.05 * rng.standard_normal((len(t), 2))
    stereo = np.stack([tone, 0.5 * tone], axis=1) + ambience
    sf.write(path, stereo.astype(np.float32), SAMPLING_RATE)


@pytest.fixture
def references(tmp_path):
    folder = tmp_path / "refs"
    folder.mkdir()
    write_reference(folder / "first.wav", 1)
    write_reference(folder / "second.flac", 2)
    return folder


def test_eval_writes_the_table_and_the_plots(references, tmp_path, capsys):
    output_dir = tmp_path / "out"
    code = main(
        [
            "eval",
            "--refs",
            str(references),
            "--systems",
            "dsp:dual",
            "dsp:allpass",
            "--output-dir",
            str(output_dir),
            "--track",
            "second",
        ]
    )
    assert code == 0
    for name in (
        "results.md",
        "results.csv",
        "results_per_track.csv",
        "results.json",
        "band_cues.png",
        "stereo_field_second.png",
    ):
        assert (output_dir / name).stat().st_size > 0, name
    assert (output_dir / "band_cues.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    document = json.loads((output_dir / "results.json").read_text())
    assert [row["system"] for row in document["systems"]] == ["dsp:allpass", "dsp:dual"]
    assert {row["track"] for row in document["tracks"]} == {"first", "second"}
    dual = document["systems"][1]
    assert dual["tracks"] == 2
    assert dual["width_db"] == -60.0
    assert dual["ild_error_db"] > 3.0  # the references hold a tone 6 dB to the left
    assert document["systems"][0]["folddown_si_sdr_db"] > 90.0

    table = (output_dir / "results.md").read_text()
    assert "| dsp:allpass | 2 |" in table and "| dsp:dual | 2 |" in table
    assert "dsp:dual" in capsys.readouterr().out


def test_eval_crops_references_with_max_seconds(references, tmp_path):
    output_dir = tmp_path / "out"
    assert (
        main(
            [
                "eval",
                "--refs",
                str(references),
                "--systems",
                "dsp:orban",
                "--output-dir",
                str(output_dir),
                "--max-seconds",
                "0.5",
            ]
        )
        == 0
    )
    assert (output_dir / "stereo_field_first.png").exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--refs", "{missing}"], "does not exist"),
        (["--refs", "{empty}"], "has no audio files"),
        (["--refs", "{refs}", "--track", "third"], "'third' is not among the references"),
        (["--refs", "{refs}", "--systems", "dsp:wide"], "unknown DSP upmixer 'dsp:wide'"),
    ],
)
def test_eval_reports_bad_input_in_one_line(references, tmp_path, capsys, arguments, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not audio")
    places = {"missing": tmp_path / "missing", "empty": tmp_path / "empty", "refs": references}
    arguments = [argument.format(**places) for argument in arguments]
    if "--systems" not in arguments:
        arguments += ["--systems", "dsp:dual"]
    assert main(["eval", *arguments, "--output-dir", str(tmp_path / "out")]) == 1
    error = capsys.readouterr().err
    assert message in error
    assert "Traceback" not in error


def test_a_model_system_is_upmixed_and_scored_best_of_n(references, tmp_path):
    from mono2stereo.modeling import tiny_model

    tiny_model().save_pretrained(tmp_path / "tiny")
    model = str(tmp_path / "tiny")
    out = tmp_path / "out"
    arguments = ["eval", "--refs", str(references), "--systems", "dsp:dual", model, "--output-dir", str(out)]
    assert main([*arguments, "--num-variants", "2", "--seed", "0", "--max-seconds", "0.4"]) == 0
    rows = {row["system"]: row for row in json.loads((out / "results.json").read_text())["systems"]}
    assert set(rows) == {"dsp:dual", model}
    # mid-side rendering keeps the fold-down; the random model adds a side, so it is wider than dual mono
    assert rows[model]["folddown_si_sdr_db"] > 40
    assert rows[model]["width_db"] > rows["dsp:dual"]["width_db"]
