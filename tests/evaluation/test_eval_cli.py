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
    # dual mono has no level differences to move; the references' steady tone keeps theirs in place
    assert dual["ild_change_db"] == 0.0
    assert set(document["reference_ild_change_db"]) == {"first", "second"}
    for change in document["reference_ild_change_db"].values():
        assert 0.0 < change < 3.0
    assert dual["ild_change_error_db"] == pytest.approx(np.mean(list(document["reference_ild_change_db"].values())))

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
        (["--refs", "{refs}", "--batch-size", "0"], "--batch-size 0 must be at least 1"),
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


def test_a_model_system_upmixes_at_the_batch_size_given_or_else_at_the_models_own(tmp_path, monkeypatch):
    from mono2stereo.evaluation.cli import resolve_systems
    from mono2stereo.inference.pipeline import Mono2StereoPipeline
    from mono2stereo.modeling import tiny_model

    tiny_model(spatial=True).save_pretrained(tmp_path / "tiny")
    given = resolve_systems([str(tmp_path / "tiny")], 1, batch_size=3)[str(tmp_path / "tiny")]
    own = resolve_systems([str(tmp_path / "tiny")], 1)[str(tmp_path / "tiny")]
    batches = []
    original = Mono2StereoPipeline.upmix_into

    def recording_upmix_into(self, *arguments, **settings):
        batches.append(settings["batch_size"])
        return original(self, *arguments, **settings)

    monkeypatch.setattr(Mono2StereoPipeline, "upmix_into", recording_upmix_into)
    for system in (given, own):
        system(np.full(800, 0.01, dtype=np.float32), 8000, seed=0)
    assert batches == [3, None]  # None: the pipeline's default_batch_size


def test_several_seeds_average_a_seeded_system_and_run_dsp_once(references):
    from mono2stereo.evaluation.evaluate import evaluate_systems, load_reference, reference_files
    from mono2stereo.evaluation.report import markdown_table, system_means
    from mono2stereo.evaluation.systems import dsp_system

    calls = []

    def seeded(mono, sampling_rate, seed):  # a side whose level depends on the seed: widths differ by seed
        calls.append(seed)
        side = 0.1 * (seed + 1) * np.random.default_rng(seed).standard_normal(len(mono))
        return np.stack([mono + side, mono - side], axis=1)[None]

    dual = dsp_system("dsp:dual")
    dual_calls = []

    def counted_dual(mono, sampling_rate, seed):
        dual_calls.append(seed)
        return dual(mono, sampling_rate, seed)

    counted_dual.seeded = False
    refs = [load_reference(path) for path in reference_files(references)]
    result = evaluate_systems(refs, {"model": seeded, "dsp:dual": counted_dual}, seed=5, num_seeds=3)
    assert calls == [5, 6, 7, 5, 6, 7] and dual_calls == [5, 5]
    means = {row["system"]: row for row in system_means(result)}
    assert (means["model"]["tracks"], means["model"]["seeds"], means["dsp:dual"]["seeds"]) == (2, 3, 1)
    model_rows = [r for r in result.rows if r["system"] == "model"]
    per_seed = [np.mean([r["width_db"] for r in model_rows if r["seed"] == s]) for s in (5, 6, 7)]
    assert per_seed[0] < per_seed[1] < per_seed[2]  # the seeds really gave different upmixes
    assert means["model"]["width_db"] == pytest.approx(np.mean(per_seed))
    assert means["model"]["width_db_seed_std"] == pytest.approx(np.std(per_seed))
    assert "width_db_seed_std" not in means["dsp:dual"]
    assert "| model | 2 | 3 |" in markdown_table(result) and " ± " in markdown_table(result)
    with pytest.raises(ValueError, match="at least 1"):
        evaluate_systems(refs, {"model": seeded}, seed=0, num_seeds=0)


def test_eval_seeds_option_writes_one_row_per_seed(references, tmp_path):
    from mono2stereo.modeling import tiny_model

    tiny_model().save_pretrained(tmp_path / "tiny")
    model, out = str(tmp_path / "tiny"), tmp_path / "out"
    arguments = ["eval", "--refs", str(references), "--systems", "dsp:dual", model, "--output-dir", str(out)]
    assert main([*arguments, "--seeds", "2", "--seed", "3", "--max-seconds", "0.4"]) == 0
    document = json.loads((out / "results.json").read_text())
    seeds = sorted((row["track"], row["seed"]) for row in document["tracks"] if row["system"] == model)
    assert seeds == [("first", 3), ("first", 4), ("second", 3), ("second", 4)]
    assert {row["system"]: row["seeds"] for row in document["systems"]} == {"dsp:dual": 1, model: 2}
    assert main([*arguments, "--seeds", "0"]) == 1


def test_long_system_names_are_wrapped_to_fit_their_row_label():
    from mono2stereo.evaluation.plots import ROW_LABEL_WIDTH, row_label

    label = row_label("/home/someone/experiments/runs/default-24k-ms-with-a-long-name/checkpoint-final")
    assert all(len(line) <= ROW_LABEL_WIDTH for line in label.splitlines())
    assert "checkpoint-final" in label.replace("\n", "") and row_label("dsp:allpass") == "dsp:allpass"
