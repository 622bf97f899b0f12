"""How much of a spatial model's error is not knowing how wide the song is? Each song upmixed free and asked for the
reference's own width.

    OMP_NUM_THREADS=1 python benchmarks/bench_width_oracle.py --model models/cfw-800 --refs HELDOUT40 \
        --max-seconds 30 --seeds 4 --output-dir outputs/width-oracle

Each reference (its first `--max-seconds`) is folded to mono and upmixed by the model as it ships (`free`: the width
its generation settings ask for, or its width head's prediction), and asked for the width the reference has
(`reference width`, `target_width_db`): an oracle no user has, which bounds what a perfect width predictor would
give this model. Both are scored by `mono2stereo eval`'s metrics; `--decoding` overrides the model's decoding.
Writes `results.json`, `results.md` and the CSVs (the eval's formats) to `--output-dir` and prints the table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

from mono2stereo.evaluation.evaluate import EvaluationResult, evaluate_systems, load_reference, reference_files
from mono2stereo.evaluation.metrics import stereo_width_db
from mono2stereo.evaluation.report import markdown_table, write_tables
from mono2stereo.evaluation.systems import UpmixerSystem
from mono2stereo.inference.pipeline import load_pipeline

FREE, ORACLE = "free", "reference width"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a spatial model folder or Hub id")
    parser.add_argument("--refs", required=True, help="a folder of stereo songs")
    parser.add_argument("--max-seconds", type=float, default=None, help="score each song's first seconds only")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--decoding", default=None, help="override the model's decoding (e.g. mean, sample)")
    parser.add_argument("--output-dir", required=True)
    args = parser.parse_args()
    output_dir = Path(args.output_dir)
    if output_dir.exists() and any(output_dir.iterdir()):
        parser.error(f"--output-dir {output_dir} is not empty; give a new folder")
    pipeline = load_pipeline(args.model)
    merged = EvaluationResult()
    for path in tqdm(reference_files(args.refs), desc="songs", unit="song"):
        reference = load_reference(path, args.max_seconds)
        free = UpmixerSystem(pipeline, settings={"decoding": args.decoding})
        width = stereo_width_db(reference.stereo)
        oracle = UpmixerSystem(pipeline, settings={"decoding": args.decoding, "target_width_db": width})
        result = evaluate_systems([reference], {FREE: free, ORACLE: oracle}, seed=0, num_seeds=args.seeds)
        merged.rows.extend(result.rows)
        merged.reference_widths_db.update(result.reference_widths_db)
        merged.reference_ild_changes_db.update(result.reference_ild_changes_db)
    write_tables(merged, output_dir)
    print(markdown_table(merged))


if __name__ == "__main__":
    main()
