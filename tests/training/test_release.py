import json
import os
import re

import pytest
import torch
import yaml

from mono2stereo.modeling import Mono2StereoModel, tiny_model
from mono2stereo.training.release import evaluation_metrics, load_facts, main
from tests import REPO

FACTS = os.path.join(REPO, "configs/release/default-24k-ms.yaml")


def test_a_run_is_released_with_a_card_that_quotes_its_metrics_and_recipe(tmp_path):
    model = tiny_model(seed=4)
    model.save_pretrained(tmp_path / "run")
    results = {"systems": [{"system": "dsp:dual", "width_db": -60.0}, {"system": "run", "ild_distance_db": 1.234}]}
    (tmp_path / "results.json").write_text(json.dumps(results))
    out = tmp_path / "released"
    arguments = [str(tmp_path / "run"), str(out), "--metrics", str(tmp_path / "results.json"), "--system", "run"]
    assert main([*arguments, "--facts", FACTS]) == 0
    released = Mono2StereoModel.from_pretrained(out).eval()
    mono = torch.randint(0, 32, (1, 2, 8))
    assert torch.equal(released.generate(mono, seed=0), model.generate(mono, seed=0))
    card = (out / "README.md").read_text()
    assert "| metric | this model | dsp:dual |" in card  # the other systems of the same evaluation, beside it
    assert "| ild_distance_db | 1.234 |  |" in card
    assert "| width_db |  | -60 |" in card
    assert "mono2stereo train --config configs/train/default-24k.yaml" in card
    assert "Synthetic stereo mixes" in card


@pytest.mark.parametrize("facts", sorted((REPO / "configs" / "release").glob("*.yaml")), ids=lambda path: path.name)
def test_release_facts_hold_no_figures(facts):
    # every figure of a card comes from the evaluation results given to the release, so none can drift from them
    load_facts(facts)
    prose = yaml.safe_load(facts.read_text())
    text = " ".join([prose["evaluation"], *prose["limitations"]])
    assert not re.findall(r"\d+\.\d+ ?(?:dB|%)|\b0\.\d{2,}", text)


def test_the_card_quotes_means_over_seeds_not_their_spread(tmp_path):
    row = {"system": "run", "seeds": 4, "coherence_distance": 0.18, "coherence_distance_seed_std": 0.006}
    (tmp_path / "results.json").write_text(json.dumps({"systems": [row]}))
    assert evaluation_metrics(tmp_path / "results.json", "run") == {"coherence_distance": 0.18}


def test_a_system_missing_from_the_results_is_named(tmp_path):
    (tmp_path / "results.json").write_text(json.dumps({"systems": [{"system": "dsp:dual"}]}))
    with pytest.raises(ValueError, match="'mine' is not in"):
        evaluation_metrics(tmp_path / "results.json", "mine")


def test_release_facts_missing_a_field_are_named(tmp_path):
    (tmp_path / "facts.yaml").write_text("codec: mine\nrecipe: train it\n")
    with pytest.raises(ValueError, match="training_data, evaluation, limitations"):
        load_facts(tmp_path / "facts.yaml")


def test_a_checkpoint_of_a_run_is_released_with_the_runs_config(tmp_path, capsys):
    from safetensors.torch import save_file

    run = tmp_path / "run"
    tiny_model(seed=4).save_pretrained(run)
    other = tiny_model(seed=5)
    (run / "checkpoints" / "step-3").mkdir(parents=True)
    save_file({k: v.contiguous() for k, v in other.state_dict().items()}, run / "checkpoints/step-3/model.safetensors")
    assert main([str(run), str(tmp_path / "out"), "--facts", FACTS, "--checkpoint", "3"]) == 0
    released = Mono2StereoModel.from_pretrained(tmp_path / "out").eval()
    mono = torch.randint(0, 32, (1, 2, 8))
    assert torch.equal(released.generate(mono, seed=0), other.generate(mono, seed=0))
    assert main([str(run), str(tmp_path / "out2"), "--facts", FACTS, "--checkpoint", "9"]) == 1
    assert "step-9" in capsys.readouterr().err and not (tmp_path / "out2").exists()


def test_a_checkpoint_is_released_while_its_run_is_still_going(tmp_path):
    """A run that has not ended has only the config it wrote at its start and its checkpoints."""
    from safetensors.torch import save_file

    run = tmp_path / "run"
    other = tiny_model(seed=5)
    other.config.save_pretrained(run)
    (run / "checkpoints" / "step-3").mkdir(parents=True)
    save_file({k: v.contiguous() for k, v in other.state_dict().items()}, run / "checkpoints/step-3/model.safetensors")
    assert main([str(run), str(tmp_path / "out"), "--facts", FACTS, "--checkpoint", "3"]) == 0
    released = Mono2StereoModel.from_pretrained(tmp_path / "out").eval()
    mono = torch.randint(0, 32, (1, 2, 8))
    assert torch.equal(released.generate(mono, seed=0), other.eval().generate(mono, seed=0))


def test_the_release_command_and_its_older_entry_point_make_the_same_folder(tmp_path, capsys):
    from mono2stereo.cli import main as mono2stereo

    tiny_model(seed=4).save_pretrained(tmp_path / "run")
    assert mono2stereo(["release", str(tmp_path / "run"), str(tmp_path / "new"), "--facts", FACTS]) == 0
    assert main([str(tmp_path / "run"), str(tmp_path / "old"), "--facts", FACTS]) == 0
    for name in ("config.json", "generation_config.json", "README.md"):
        assert (tmp_path / "new" / name).read_text() == (tmp_path / "old" / name).read_text()
    missing_facts = str(tmp_path / "no.yaml")
    assert mono2stereo(["release", str(tmp_path / "run"), str(tmp_path / "x"), "--facts", missing_facts]) == 1
    assert "no.yaml" in capsys.readouterr().err
