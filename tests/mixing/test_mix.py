"""`mono2stereo mix` and `mono2stereo.mix`: stems placed by a mixing style, folding down to their sum."""

import json
import os

import numpy as np
import pytest
import soundfile as sf
import torch

import mono2stereo
from mono2stereo.cli import main
from mono2stereo.mixing.polyphony import POLYPHONIC_ABOVE, polyphony
from mono2stereo.mixing.roles import parse_stem_argument, role_from_name
from mono2stereo.training.synthetic import SyntheticMixes, _Renderer

RATE = 16000
UPMIXER = "dsp:allpass"


def tone(freq_hz: float, seconds: float = 1.0, rate: int = RATE, amplitude: float = 0.2) -> np.ndarray:
    time_s = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq_hz * time_s)).astype(np.float32)


@pytest.fixture(scope="module")
def band_stems() -> dict[str, np.ndarray]:
    """Four stems of a synthetic song: drums and piano (polyphonic), bass and vocals (one note at a time)."""
    seconds = 3.0
    generator = torch.Generator().manual_seed(0)
    render = _Renderer(int(seconds * RATE), RATE, torch.device("cpu"), generator)
    tracks = SyntheticMixes(1, RATE, seconds).arrange(render, generator)
    tracks = {name: track.numpy() for name, track in tracks.items()}
    return {
        "drums": tracks["kick"] + tracks["snare"] + tracks["hats"],
        "bass": tracks["bass"],
        "vocals": tracks["lead"],
        "piano": tracks["chords"],
    }


def si_sdr_db(estimate: np.ndarray, reference: np.ndarray) -> float:
    """Scale-invariant signal-to-distortion ratio of `estimate` against `reference`, in dB."""
    estimate, reference = estimate.astype(np.float64), reference.astype(np.float64)
    target = (estimate @ reference) / (reference @ reference) * reference
    return float(10 * np.log10((target @ target) / max((estimate - target) @ (estimate - target), 1e-300)))


def run(capsys, *argv):
    code = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# Roles and polyphony


@pytest.mark.parametrize(
    "name, role",
    [
        ("drums.wav", "drums"),  # Demucs and Spleeter
        ("bass.wav", "bass"),
        ("other.wav", "other"),
        ("vocals.wav", "vocals"),
        ("guitar.wav", "guitar"),  # htdemucs_6s
        ("piano.wav", "piano"),
        ("no_vocals.wav", "accompaniment"),  # Demucs --two-stems vocals
        ("accompaniment.wav", "accompaniment"),  # Spleeter 2stems
        ("song/htdemucs/my song_drums.flac", "drums"),
        ("01 Lead Vox.flac", "vocals"),
        ("Kick In.wav", "kick"),
        ("Backing Vocals.wav", "backing"),
        ("lead.wav", "lead"),
        ("hi-hat.wav", "hats"),
        ("Bassline 2.aif", "bass"),
        ("take 7.wav", "other"),
    ],
)
def test_roles_come_from_the_names_demucs_and_spleeter_write(name, role):
    assert role_from_name(name) == role


def test_a_role_can_be_given_before_the_path_and_an_unknown_role_is_refused():
    assert parse_stem_argument("vocals=take 3.wav") == ("vocals", "take 3.wav")
    assert parse_stem_argument("takes/a=b.wav") == (None, "takes/a=b.wav")
    with pytest.raises(ValueError, match="unknown stem role 'vocal'; choose one of drums, kick"):
        parse_stem_argument("vocal=take.wav")


def test_polyphony_tells_single_lines_from_chords_and_drums(band_stems):
    scores = {name: polyphony(audio, RATE) for name, audio in band_stems.items()}
    assert scores["bass"] < POLYPHONIC_ABOVE and scores["vocals"] < POLYPHONIC_ABOVE, scores
    assert scores["piano"] > POLYPHONIC_ABOVE and scores["drums"] > POLYPHONIC_ABOVE, scores


# The mix


@pytest.mark.parametrize("style", ["modern", "vintage", "wide", "narrow"])
def test_the_fold_down_is_the_sum_of_the_stems(band_stems, style):
    output = mono2stereo.mix(band_stems, RATE, style=style, seed=4, model=UPMIXER)
    placement = output.placements[0]
    assert {stem.name for stem in placement.stems if stem.upmixed} == {"drums", "piano"}
    assert output.audio.shape == (band_stems["bass"].shape[0], 2) and output.audio.dtype == np.float32
    assert np.abs(output.audio).max() <= 0.999
    stem_sum = np.sum(list(band_stems.values()), axis=0)
    assert si_sdr_db(output.audio.mean(axis=1), stem_sum) >= 60.0
    np.testing.assert_allclose(output.audio.mean(axis=1), placement.peak_gain * stem_sum, atol=1e-5)
    assert np.abs(output.audio[:, 0] - output.audio[:, 1]).max() > 1e-2  # stereo, not dual mono


def test_modern_centres_bass_drums_and_vocals_and_sets_the_others_on_both_sides(band_stems):
    stems = {**band_stems, "guitar": band_stems["piano"][::-1].copy()}
    for seed in range(4):
        pans = {
            stem.name: stem.pan for stem in mono2stereo.mix(stems, RATE, seed=seed, upmix=False).placements[0].stems
        }
        assert max(abs(pans["bass"]), abs(pans["drums"]), abs(pans["vocals"])) <= 0.05
        assert 0.3 <= abs(pans["piano"]) <= 0.8 and 0.3 <= abs(pans["guitar"]) <= 0.8
        assert np.sign(pans["piano"]) == -np.sign(pans["guitar"])


def test_vintage_puts_a_hard_panned_stem_on_one_side():
    stems = {"bass": tone(110.0), "vocals": tone(880.0)}
    spectrum_bin = 880  # 1 s at RATE: bin k is k Hz
    for seed in range(20):
        output = mono2stereo.mix(stems, RATE, style="vintage", seed=seed, upmix=False)
        pans = {stem.name: stem.pan for stem in output.placements[0].stems}
        if abs(pans["vocals"]) == 1.0:
            break
    else:
        pytest.fail("no seed of 20 panned the vocals hard")
    energy = np.abs(np.fft.rfft(output.audio, axis=0)[spectrum_bin]) ** 2
    near, far = (0, 1) if pans["vocals"] < 0 else (1, 0)
    assert energy[far] < 1e-8 * energy[near]
    assert set(pans.values()) <= {-1.0, 0.0, 1.0}


def test_a_seed_repeats_a_placement_and_another_seed_changes_it(band_stems):
    first = mono2stereo.mix(band_stems, RATE, style="wide", seed=11, model=UPMIXER)
    again = mono2stereo.mix(band_stems, RATE, style="wide", seed=11, model=UPMIXER)
    other = mono2stereo.mix(band_stems, RATE, style="wide", seed=12, model=UPMIXER)
    np.testing.assert_array_equal(first.audio, again.audio)
    assert first.placements[0].to_dict() == again.placements[0].to_dict()
    assert [s.pan for s in first.placements[0].stems] != [s.pan for s in other.placements[0].stems]
    assert np.abs(first.audio - other.audio).max() > 1e-3
    unseeded = mono2stereo.mix(band_stems, RATE, style="wide", model=UPMIXER)
    repeated = mono2stereo.mix(band_stems, RATE, style="wide", seed=unseeded.placements[0].seed, model=UPMIXER)
    np.testing.assert_array_equal(unseeded.audio, repeated.audio)  # the drawn seed is reported, so it repeats


def test_variants_are_the_mixes_of_consecutive_seeds(band_stems):
    variants = mono2stereo.mix(band_stems, RATE, seed=5, num_variants=2, upmix=False)
    assert variants.audio.shape == (2, band_stems["bass"].shape[0], 2)
    np.testing.assert_array_equal(variants.audio[1], mono2stereo.mix(band_stems, RATE, seed=6, upmix=False).audio)


def test_stems_of_different_lengths_are_refused_or_padded():
    stems = {"bass": tone(110.0, 1.0), "vocals": tone(440.0, 0.5)}
    with pytest.raises(ValueError, match=r"stems differ in length: bass 1.000 s \(16000 samples\), vocals 0.500 s"):
        mono2stereo.mix(stems, RATE, upmix=False)
    padded = mono2stereo.mix(stems, RATE, upmix=False, pad=True)
    assert padded.audio.shape == (RATE, 2)


# The command


def write_stems(folder, band_stems, rate=RATE):
    folder.mkdir(parents=True, exist_ok=True)
    for name, audio in band_stems.items():
        sf.write(folder / f"{name}.wav", audio, rate, subtype="FLOAT")
    return folder


def test_cli_writes_the_mix_the_library_makes_and_a_report_that_repeats_it(tmp_path, band_stems, capsys):
    song = write_stems(tmp_path / "song", band_stems)
    code, _, err = run(
        capsys, "mix", song, "-o", tmp_path / "mix.wav", "--model", UPMIXER, "--style", "vintage",
        "--seed", "3", "--report", "--subtype", "FLOAT",
    )  # fmt: skip
    assert code == 0, err
    written, rate = sf.read(tmp_path / "mix.wav", dtype="float32")
    ordered = {name: band_stems[name] for name in sorted(band_stems)}  # a folder's stems, by name
    expected = mono2stereo.mix(ordered, RATE, style="vintage", seed=3, model=UPMIXER)
    assert rate == RATE
    np.testing.assert_array_equal(written, expected.audio)
    report = json.loads((tmp_path / "mix.placement.json").read_text())
    variant = report["variants"][0]
    assert (variant["style"], variant["seed"], variant["upmixer"]) == ("vintage", 3, UPMIXER)
    stems = {stem["name"]: stem for stem in variant["stems"]}
    assert stems["vocals"]["path"] == str(song / "vocals.wav") and stems["vocals"]["role"] == "vocals"
    assert [stems[stem.name]["pan"] for stem in expected.placements[0].stems] == [
        stem.pan for stem in expected.placements[0].stems
    ]
    assert len(stems["bass"]["positions"]) == 12  # 3 s in 0.25 s frames
    assert (tmp_path / "mix.placement.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"scaled by {variant['peak_gain']:.3f}" in err or variant["peak_gain"] == 1.0


def test_roles_given_on_the_command_line_and_stereo_stems_folded(tmp_path, capsys):
    left_only = np.stack([tone(440.0), np.zeros(RATE, np.float32)], axis=1)
    sf.write(tmp_path / "take1.wav", left_only, RATE)
    sf.write(tmp_path / "take2.wav", tone(110.0), RATE)
    code, _, err = run(
        capsys, "mix", "vocals=" + str(tmp_path / "take1.wav"), "bass=" + str(tmp_path / "take2.wav"),
        "-o", tmp_path / "mix.flac", "--no-upmix", "--seed", "0", "--report", tmp_path / "where.json",
    )  # fmt: skip
    assert code == 0, err
    stems = json.loads((tmp_path / "where.json").read_text())["variants"][0]["stems"]
    assert {stem["name"]: stem["role"] for stem in stems} == {"take1": "vocals", "take2": "bass"}
    mixed, _ = sf.read(tmp_path / "mix.flac")
    gain = json.loads((tmp_path / "where.json").read_text())["variants"][0]["peak_gain"]
    np.testing.assert_allclose(mixed.mean(axis=1), gain * (left_only.mean(axis=1) + tone(110.0)), atol=1e-4)
    assert (tmp_path / "where.png").exists()


@pytest.mark.parametrize(
    "kind, message",
    [
        ("corrupt", "cannot read"),
        ("empty", "has no audio"),
        ("six-channel", "has 6 channels; mono2stereo takes mono or stereo"),
        ("shorter", "stems differ in length"),
        ("other-rate", "stems have different sample rates: bass.wav 16000 Hz, vocals.wav 22050 Hz"),
    ],
)
def test_bad_stems_get_one_line_and_no_output(tmp_path, kind, message, capsys):
    sf.write(tmp_path / "bass.wav", tone(110.0), RATE)
    vocals = tmp_path / "vocals.wav"
    if kind == "corrupt":
        vocals.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(100)))
    elif kind == "empty":
        sf.write(vocals, np.zeros((0, 1), np.float32), RATE)
    elif kind == "six-channel":
        sf.write(vocals, np.zeros((RATE, 6), np.float32), RATE)
    elif kind == "shorter":
        sf.write(vocals, tone(440.0, 0.5), RATE)
    else:
        sf.write(vocals, tone(440.0, 1.0, rate=22050), 22050)
    code, _, err = run(capsys, "mix", tmp_path / "bass.wav", vocals, "-o", tmp_path / "out" / "mix.wav", "--no-upmix")
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], err
    assert not (tmp_path / "out" / "mix.wav").exists()
    if kind in ("shorter", "other-rate"):  # --pad pads (and resamples to the highest rate)
        code, _, err = run(
            capsys, "mix", tmp_path / "bass.wav", vocals, "-o", tmp_path / "mix.wav", "--no-upmix", "--pad"
        )
        assert code == 0, err
        info = sf.info(tmp_path / "mix.wav")
        assert info.samplerate == (RATE if kind == "shorter" else 22050) and info.channels == 2


def test_an_existing_mix_is_kept_without_overwrite(tmp_path, band_stems, capsys):
    song = write_stems(tmp_path / "song", {"bass": band_stems["bass"]})
    (tmp_path / "mix.wav").write_bytes(b"keep me")
    code, _, err = run(capsys, "mix", song, "-o", tmp_path / "mix.wav", "--no-upmix")
    assert code == 1 and "already exists; pass --overwrite" in err
    assert (tmp_path / "mix.wav").read_bytes() == b"keep me"
    code, _, err = run(capsys, "mix", song, "-o", tmp_path / "mix.wav", "--no-upmix", "--overwrite")
    assert code == 0, err
    assert sf.info(tmp_path / "mix.wav").channels == 2


def test_a_folder_of_songs_gets_one_mix_each_and_a_bad_song_does_not_stop_the_others(tmp_path, band_stems, capsys):
    catalogue = tmp_path / "catalogue"
    write_stems(catalogue / "first", band_stems)
    write_stems(catalogue / "second", {"bass": band_stems["bass"], "vocals": band_stems["vocals"][:-100]})
    write_stems(catalogue / "third", {"bass": band_stems["bass"]})
    code, _, err = run(
        capsys, "mix", catalogue, "-o", tmp_path / "out", "--model", UPMIXER, "--variants", "2", "--report"
    )
    assert code == 1 and "second: stems differ in length" in err and "1 of 3 songs failed" in err
    assert sorted(os.listdir(tmp_path / "out")) == sorted(
        f"{song}{suffix}"
        for song in ("first", "third")
        for suffix in ("-v1.wav", "-v2.wav", ".placement.json", ".placement.png")
    )
