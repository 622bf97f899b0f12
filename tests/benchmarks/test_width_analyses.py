"""The width analyses of benchmarks/: per-track tables, the one-width floor, the near-mono ranking score."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def load(name: str):
    if str(BENCHMARKS) not in sys.path:  # as when run from benchmarks/: a script imports its neighbours
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_roc_auc_counts_pairs_ranked_right_and_ties_as_half():
    roc_auc = load("bench_near_mono").roc_auc
    positive = np.array([True, True, False, False])
    assert roc_auc(np.array([4.0, 3.0, 2.0, 1.0]), positive) == 1.0
    assert roc_auc(np.array([1.0, 2.0, 3.0, 4.0]), positive) == 0.0
    assert roc_auc(np.array([3.0, 1.0, 2.0, 0.0]), positive) == 0.75
    assert roc_auc(np.ones(4), positive) == 0.5


def test_per_track_table_means_over_seeds_and_floor_of_one_width(tmp_path):
    rows = [
        {"system": "a", "track": track, "seed": seed, "width_error_db": error + seed}
        for track, error in (("wide", 1.0), ("narrow", 3.0), ("mono", 10.0))
        for seed in (0, 1)
    ]
    result = {"tracks": rows, "reference_width_db": {"wide": -4.0, "narrow": -10.0, "mono": -26.0}}
    path = tmp_path / "results.json"
    path.write_text(json.dumps(result))
    bench = BENCHMARKS / "bench_per_track.py"
    command = [sys.executable, bench, path, "--metrics", "width_error_db", "--constant", "-7", "--without", "mono"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    assert "| mono | -26.0 | 10.50 |" in out  # seeds 0 and 1 averaged
    assert "| mean | -13.3 | 5.17 |" in out
    assert "| mean without mono | -7.0 | 2.50 |" in out
    # one width for all: at the median (-10 dB) |6| + 0 + |16| over 3; at -7 dB |3| + |3| + |19| over 3
    assert "7.33 dB at the tracks' own median (-10.0 dB); 8.33 dB at -7 dB" in out


def test_per_track_refuses_a_file_without_per_track_rows(tmp_path):
    path = tmp_path / "summary.json"
    path.write_text(json.dumps({"systems": []}))
    result = subprocess.run([sys.executable, BENCHMARKS / "bench_per_track.py", path], capture_output=True, text=True)
    assert result.returncode == 2 and "not a results file" in result.stderr


def test_band_cues_of_references_alone_end_with_their_means(tmp_path):
    import soundfile

    rng = np.random.default_rng(0)
    mid = rng.standard_normal(16000 * 4).astype(np.float32) * 0.1
    side = rng.standard_normal(16000 * 4).astype(np.float32) * 0.1
    soundfile.write(tmp_path / "wide.flac", np.stack([mid + side, mid - side], axis=1), 16000)
    soundfile.write(tmp_path / "narrow.flac", np.stack([mid + 0.1 * side, mid - 0.1 * side], axis=1), 16000)
    (tmp_path / "notes.txt").write_text("not audio")
    script = BENCHMARKS / "bench_band_cues.py"
    printed = subprocess.run(
        [sys.executable, str(script), "--references-only", "--refs", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = [line.split(" | ") for line in printed.splitlines() if line.startswith(("| wide", "| narrow", "| mean"))]
    assert [row[0] for row in rows] == [
        "| narrow",
        "| wide",
        "| mean of 2",
    ]  # every audio file, sorted, then the means
    widths = [float(rows[0][2]), float(rows[1][2])]
    assert widths[0] == -20.0 and widths[1] == 0.0  # side-to-mid: 0.1 of the side is -20 dB; the same energy is 0 dB
    assert rows[2][2] == "-10.0 (median -10.0)"
    assert float(rows[1][4]) > float(rows[0][4]) > 0  # the wide track has the larger mid-band |ILD|
    refused = subprocess.run([sys.executable, str(script), "--refs", str(tmp_path)], capture_output=True, text=True)
    assert refused.returncode == 2 and "--references-only" in refused.stderr
