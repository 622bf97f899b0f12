"""The tokens a seed gives stay the same: tiny random models against tokens stored from an earlier version.

`tests/modeling/fixtures/generation_tokens.json` holds the tokens that `generate` gave for each case below,
computed by the code of the time (not written by hand). A change that reorders random draws or alters the sampling
arithmetic fails here. Should a change of tokens ever be meant, rewrite the file with
`python tests/modeling/test_generation_pinned.py --write` and say why in the commit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

from mono2stereo.modeling import tiny_model

FIXTURE = Path(__file__).parent / "fixtures" / "generation_tokens.json"
FRAMES = 12

# name: (model settings, generate settings); models get initializer_range 0.5 so a random model has opinions.
CASES = {
    "left-right seeded": ({}, {"seed": 3}),
    "left-right no cache": ({}, {"seed": 3, "use_cache": False}),
    "left-right guided": ({}, {"seed": 5, "style": "vintage", "width_db": -8.0, "guidance_scale": 3.0}),
    "left-right top-k top-p": ({}, {"seed": 7, "temperature": 0.7, "top_k": 5, "top_p": 0.9}),
    "left-right greedy prefix": ({}, {"temperature": 0, "prefix": 5}),
    "left-right sampled prefix": ({}, {"seed": 11, "prefix": 4, "style": ["modern", "wide"]}),
    "mid-side seeded": ({"channel_layout": "mid-side"}, {"seed": 2}),
    "mid-side prefix no cache": ({"channel_layout": "mid-side"}, {"seed": 2, "prefix": 3, "use_cache": False}),
    "spatial seeded": ({"spatial": True}, {"seed": 4, "style": "narrow"}),
    "spatial guided": ({"spatial": True}, {"seed": 4, "guidance_scale": 2.0, "width_db": -12.0}),
    "spatial mean decoding": ({"spatial": True}, {"mean": True}),
}


def generated_tokens(model_settings: dict, settings: dict) -> torch.Tensor:
    """The tokens of one case: a tiny random model, seeded mono conditioning and prefix, then `generate`."""
    model = tiny_model(seed=1, initializer_range=0.5, **model_settings)
    config = model.config
    inputs = torch.Generator().manual_seed(0)
    if config.is_spatial:
        mono = torch.randn(2, config.num_mono_channels, FRAMES, generator=inputs)
    else:
        mono = torch.randint(0, config.codebook_size, (2, config.num_mono_channels, FRAMES), generator=inputs)
    settings = dict(settings)
    prefix = settings.pop("prefix", 0)
    if prefix:
        shape = (2, config.num_stereo_codebooks, prefix)
        settings["prefix_codes"] = torch.randint(0, config.codebook_size, shape, generator=inputs)
    if settings.pop("mean", False):
        settings["token_values"] = model.codec.token_values()
    return model.generate(mono, **settings)


@pytest.fixture(scope="module")
def stored() -> dict:
    return json.loads(FIXTURE.read_text())


@pytest.mark.parametrize("name", list(CASES))
def test_a_seed_gives_the_stored_tokens(name, stored):
    tokens = generated_tokens(*CASES[name])
    assert tokens.tolist() == stored[name]


def test_every_case_has_stored_tokens(stored):
    assert sorted(stored) == sorted(CASES)


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/modeling/test_generation_pinned.py --write  (rewrites the stored tokens)")
    FIXTURE.parent.mkdir(exist_ok=True)
    tokens = {name: generated_tokens(*case).tolist() for name, case in CASES.items()}
    FIXTURE.write_text(json.dumps(tokens, indent=None, separators=(",", ":")) + "\n")
    print(f"wrote {len(tokens)} cases to {FIXTURE}")
