"""Release a trained run as a model folder with its model card: weights, config and how they were made.

    mono2stereo release runs/spatial-32k mono2stereo/default_model \
        --facts configs/release/spatial-32k.yaml --metrics outputs/eval-spatial/results.json --system runs/spatial-32k

The card's fixed prose is `mono2stereo/modeling/model_card_template.md`; what differs between releases (recipe, data,
how it was evaluated, limitations) comes from a release-facts file in `configs/release/`, and every figure from the
`mono2stereo eval` results it is given: the released system's scores, and those of the other systems of the same
evaluation (the DSP baselines, say) as columns beside them; the facts hold no figures of their own. The facts'
optional `generation` mapping (the keys of `generation_config.json`: `temperature`, `top_k`, `top_p`,
`guidance_scale`, `decoding`, `target_width_db`) is what the release ships there; without it the run's own settings
are kept.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..modeling import Mono2StereoConfig, Mono2StereoModel
from ..modeling.generation_settings import GenerationSettings
from ..modeling.hub import build_model_card

# How the default model was made: the codec first, then the upmixer on its tokens.
FACT_KEYS = ("codec", "recipe", "training_data", "evaluation", "limitations")


def load_facts(path: str | Path) -> dict:
    """A release-facts YAML file: `codec`, `recipe`, `training_data`, `evaluation` and `limitations` (a list), and
    optionally `generation`, the sampling settings to ship."""
    import yaml

    facts = yaml.safe_load(Path(path).read_text())
    missing = [key for key in FACT_KEYS if key not in (facts or {})]
    if missing:
        raise ValueError(f"release facts {path} lack {', '.join(missing)}; give each of {', '.join(FACT_KEYS)}")
    generation_settings(facts, source=f"release facts {path}")  # a bad value fails before any model loads
    return facts


def generation_settings(facts: dict, source: str = "release facts") -> GenerationSettings | None:
    """The sampling settings the facts ship (their `generation` mapping), or None when they name none."""
    if facts.get("generation") is None:
        return None
    return GenerationSettings.from_dict(facts["generation"], source=f"{source}: generation")


def evaluation_results(results_json: str | Path) -> dict[str, dict[str, float]]:
    """The mean scores of every system of a `mono2stereo eval` results.json, by system (the seed spreads left out)."""
    rows = json.loads(Path(results_json).read_text())["systems"]
    return {
        row["system"]: {k: v for k, v in row.items() if isinstance(v, float) and not k.endswith("_seed_std")}
        for row in rows
    }


def evaluation_metrics(results_json: str | Path, system: str) -> dict[str, float]:
    """The mean scores of one system from a `mono2stereo eval` results.json."""
    return released_and_baselines(results_json, system)[0]


def released_and_baselines(
    results_json: str | Path, system: str
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """From one read of a `mono2stereo eval` results.json: the mean scores of `system`, and those of every other
    system of the same evaluation by name (the card's further columns)."""
    results = evaluation_results(results_json)
    if system not in results:
        raise ValueError(f"system {system!r} is not in {results_json}; it has {', '.join(results)}")
    return results.pop(system), results


def load_run(run_dir: str | Path, checkpoint: int | None = None) -> Mono2StereoModel:
    """The model a run saved at its end, or with `checkpoint` the weights of its checkpoint `step-N` (the run's
    config, the checkpoint's `model.safetensors`), also while the run is still going."""
    if checkpoint is None:
        return Mono2StereoModel.from_pretrained(run_dir).eval()
    from safetensors.torch import load_file

    weights = Path(run_dir, "checkpoints", f"step-{checkpoint}", "model.safetensors")
    if not weights.is_file():
        raise ValueError(f"{weights} does not exist; pass a step whose checkpoint the run kept")
    if Path(run_dir, "model.safetensors").is_file():
        model = Mono2StereoModel.from_pretrained(run_dir)
    else:  # the run has not ended: its config, written when it started
        model = Mono2StereoModel(Mono2StereoConfig.from_pretrained(run_dir))
    model.load_state_dict(load_file(str(weights)))
    return model.eval()


def release_model(
    run_dir: str | Path,
    output_dir: str | Path,
    facts: dict,
    metrics: dict[str, float] | None = None,
    checkpoint: int | None = None,
    baselines: dict[str, dict[str, float]] | None = None,
) -> Path:
    """Save the model of `run_dir` (or of its checkpoint `step-N`) into `output_dir` (safetensors) with a model card
    made of `facts` (see `load_facts`), `metrics` and the `baselines` scored beside it (`{system: metrics}`), and
    with the facts' sampling settings if they give some; returns the folder."""
    model = load_run(run_dir, checkpoint)
    shipped = generation_settings(facts)
    if shipped is not None:
        model.generation_settings = shipped
    output_dir = Path(output_dir)
    model.save_pretrained(output_dir)
    card = build_model_card(
        model,
        codec=facts["codec"],
        metrics=metrics,
        training_command=facts["recipe"].strip(),
        data_description=f"{facts['training_data'].strip()}.",
        evaluation_note=facts["evaluation"].strip() if metrics else None,
        extra_limitations=[line.strip() for line in facts["limitations"]],
        baselines=baselines,
    )
    card.save(output_dir / "README.md")
    return output_dir


def main(argv: list[str] | None = None) -> int:
    """`python -m mono2stereo.training.release ARGS`, the older spelling of `mono2stereo release ARGS`."""
    from ..cli import run_command

    return run_command("release", argv, prog="python -m mono2stereo.training.release")


if __name__ == "__main__":
    raise SystemExit(main())
