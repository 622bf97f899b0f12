import logging

import pytest

from mono2stereo.inference import default_model
from mono2stereo.modeling import tiny_model


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    folder = tmp_path / "default_model"
    tiny_model().save_pretrained(folder)
    monkeypatch.setattr(default_model, "SHIPPED_MODEL_DIR", folder)
    monkeypatch.delenv("MONO2STEREO_DEFAULT_MODEL", raising=False)
    return folder


def test_offline_the_shipped_model_is_used_with_a_one_line_notice(shipped, monkeypatch, caplog):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with caplog.at_level(logging.WARNING, logger="mono2stereo"):
        assert default_model.default_model_path() == str(shipped)
    assert len(caplog.records) == 1
    assert "shipped with the package" in caplog.records[0].getMessage()
    assert "\n" not in caplog.records[0].getMessage()


def test_online_the_hub_release_is_tried_first(shipped, monkeypatch, tmp_path):
    import huggingface_hub
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    asked = []

    def fake_download(repo_id, **kwargs):
        asked.append(repo_id)
        return str(tmp_path / "downloaded")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_download)
    assert default_model.default_model_path() == str(tmp_path / "downloaded")
    assert asked == [default_model.DEFAULT_MODEL_ID]


def test_when_the_hub_cannot_give_it_the_shipped_model_is_used(shipped, monkeypatch):
    import huggingface_hub
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)

    def unreachable(repo_id, **kwargs):
        raise OSError("no route to host")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", unreachable)
    assert default_model.default_model_path() == str(shipped)


def test_a_folder_in_the_environment_overrides_the_release(shipped, monkeypatch, tmp_path):
    other = tmp_path / "other"
    tiny_model(seed=1).save_pretrained(other)
    monkeypatch.setenv("MONO2STEREO_DEFAULT_MODEL", str(other))
    assert default_model.default_model_path() == str(other)


def test_a_missing_shipped_model_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr(default_model, "SHIPPED_MODEL_DIR", tmp_path / "nothing")
    with pytest.raises(ValueError, match="--model"):
        default_model.shipped_model_path()
