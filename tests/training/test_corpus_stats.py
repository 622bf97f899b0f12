"""The corpus card on a folder of stereo files the test writes: hours, widths, correlations and the plot."""

import numpy as np
import soundfile

from mono2stereo.training.corpus_stats import main, measure_folder

RATE = 16000


def write(path, left_gain: float, side_gain: float, seconds: float = 3.0, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    mid = rng.standard_normal(int(seconds * RATE)) * 0.1
    side = rng.standard_normal(len(mid)) * 0.1 * side_gain
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, np.stack([left_gain * (mid + side), mid - side], axis=1).astype(np.float32), RATE)


def test_corpus_stats_on_any_folder_writes_card_table_and_plot(tmp_path):
    corpus, other = tmp_path / "mine", tmp_path / "other"
    for index in range(3):
        write(corpus / "train" / f"{index}.flac", 1.0, 0.3, seed=index)
    write(corpus / "heldout" / "a.wav", 1.0, 0.05, seed=7)
    write(other / "left.flac", 4.0, 0.3, seed=8)  # 12 dB louder on the left
    (corpus / "train" / "notes.txt").write_text("not audio")
    out = tmp_path / "card"
    assert main([str(corpus), "--compare", str(other), "-o", str(out)]) == 0
    text = (out / "card.md").read_text()
    assert "train: 3" in text and "heldout: 1" in text and "compared: 1" in text
    rows = (out / "files.tsv").read_text().splitlines()[1:]
    assert len(rows) == 4
    widths = {line.split("\t")[0].rsplit("/", 1)[-1]: float(line.split("\t")[3]) for line in rows}
    assert widths["a.wav"] < -20 < widths["0.flac"]
    assert (out / "corpus_stats.png").stat().st_size > 10_000
    louder = measure_folder(str(other))[0]
    assert np.nanmedian(louder.band_ild_db) > 8  # the left gain shows as a level difference in every band
    assert np.nanmedian(measure_folder(str(corpus / "train"))[0].band_ild_db) < 3


def test_corpus_stats_refuses_a_folder_without_audio(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main([str(tmp_path / "empty"), "-o", str(tmp_path / "out")]) == 2
    assert "no audio files" in capsys.readouterr().err


def test_the_card_rows_have_as_many_cells_as_its_header():
    from mono2stereo.training.corpus_stats import FileStats, card

    stats = [
        FileStats(f"f{i}.flac", "train", 60.0, width_db=-8.0 - i, lr_correlation=0.5, band_ild_db=None)
        for i in range(5)
    ]
    table = [line for line in card("corpus", stats, None, None).splitlines() if line.startswith("| ")]
    cells = {line.count("|") for line in table if "Files measured" in line or ": 5 |" in line}
    assert len(cells) == 1, table
