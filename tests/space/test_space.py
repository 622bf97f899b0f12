"""The Space: its stereo-field pictures, its API through gradio_client, and its page in a real browser."""

import importlib.util
import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mono2stereo.modeling import tiny_model
from tests import REPO

APP = REPO / "space" / "app.py"
EXAMPLE = REPO / "space" / "examples" / "keys-and-bass.ogg"
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
MAX_SECONDS = 6.5  # the example clip (6 s) fits; the long clip below is trimmed
START_TIMEOUT_S = 120


def tones(seconds: float, rate: int, amplitude: float = 0.2) -> np.ndarray:
    """A mono chord that changes halfway, as float32."""
    time_s = np.arange(int(seconds * rate)) / rate
    low = np.sin(2 * np.pi * 220 * time_s) + np.sin(2 * np.pi * 330 * time_s)
    high = np.where(time_s < seconds / 2, np.sin(2 * np.pi * 880 * time_s), np.sin(2 * np.pi * 1320 * time_s))
    return (amplitude * (low + high) / 3).astype(np.float32)


# The pictures (library functions in mono2stereo.evaluation.plots)


def test_goniometer_puts_mono_on_the_vertical_and_one_channel_on_its_diagonal():
    from mono2stereo.evaluation.plots import goniometer_points

    mono = tones(0.1, 8000)
    side, mid = goniometer_points(np.stack([mono, mono], axis=1))
    np.testing.assert_allclose(side, 0.0, atol=1e-7)
    np.testing.assert_allclose(mid, np.sqrt(2.0) * mono, rtol=1e-5, atol=1e-7)
    side, mid = goniometer_points(np.stack([mono, np.zeros_like(mono)], axis=1))
    np.testing.assert_allclose(side, -mid, atol=1e-7)  # left only: the upper-left diagonal
    side, _ = goniometer_points(np.stack([np.zeros_like(mono), mono], axis=1))
    assert np.all(np.sign(side[mono > 0]) == 1)  # right only: to the right


def test_goniometer_decimates_long_audio_and_rejects_mono_shaped_input():
    from mono2stereo.evaluation.plots import goniometer_points

    side, mid = goniometer_points(np.zeros((10_001, 2)), max_points=1000)
    assert side.shape == mid.shape and side.shape[0] <= 1000
    with pytest.raises(ValueError, match=r"shaped \(num_samples, 2\)"):
        goniometer_points(np.zeros(100))


def test_stereo_correlation_of_mono_inverted_and_independent_channels():
    from mono2stereo.evaluation.plots import stereo_correlation

    mono = tones(0.2, 8000)
    noise = np.random.default_rng(0).standard_normal((20_000, 2))
    assert stereo_correlation(np.stack([mono, mono], axis=1)) == pytest.approx(1.0)
    assert stereo_correlation(np.stack([mono, -mono], axis=1)) == pytest.approx(-1.0)
    assert abs(stereo_correlation(noise)) < 0.05
    assert stereo_correlation(np.zeros((10, 2))) == 1.0


def test_figures_have_one_panel_per_signal():
    from mono2stereo.evaluation.metrics import spatial_cues
    from mono2stereo.evaluation.plots import goniometer_figure, stereo_field_figure

    rate = 16000
    mono = tones(1.0, rate)
    signals = {"input": np.stack([mono, mono], axis=1), "output": np.stack([mono, 0.5 * mono], axis=1)}
    goniometer = goniometer_figure(signals)
    assert [axes.get_title().splitlines()[0] for axes in goniometer.axes] == ["input", "output"]
    assert "correlation +1.00" in goniometer.axes[0].get_title()
    field = stereo_field_figure({name: spatial_cues(audio, rate) for name, audio in signals.items()}, "field")
    rows = [axes.get_ylabel().splitlines()[0] for axes in field.axes if axes.get_ylabel().endswith("(Hz)")]
    assert rows == ["input", "output"]


# The app in this process: model resolution and the Space's front matter


def load_app():
    pytest.importorskip("gradio")
    spec = importlib.util.spec_from_file_location("space_app", APP)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_a_default_model_the_space_runs_dsp_sources_and_hides_the_ai_controls(monkeypatch):
    import mono2stereo.inference.pipeline as pipeline_module

    def no_default_model():
        raise ValueError("no default model is installed yet")

    monkeypatch.setattr(pipeline_module, "default_model_path", no_default_model)
    app = load_app()
    pipeline, note = app.resolve_pipeline(None)
    assert app.model_name(pipeline) == "dsp:sources"
    assert "dsp:sources" in note
    demo = app.build_demo(pipeline, note=note)
    labels = {block.label: block for block in demo.blocks.values() if getattr(block, "label", None)}
    assert labels["Width"].visible is True
    assert labels["Style"].visible is False and labels["Render"].visible is False


def test_space_front_matter_names_the_default_model_once_there_is_one():
    yaml = pytest.importorskip("yaml")
    from mono2stereo.inference.default_model import DEFAULT_MODEL_ID

    text = (REPO / "space" / "README.md").read_text()
    front_matter = yaml.safe_load(text.split("---")[1])
    assert front_matter["sdk"] == "gradio" and front_matter["app_file"] == "app.py"
    assert front_matter.get("models") == ([DEFAULT_MODEL_ID] if DEFAULT_MODEL_ID else None)


# The app, served in a subprocess


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """The Space serving a tiny random model on 127.0.0.1; stopped by its process handle at the end."""
    pytest.importorskip("gradio")
    folder = tmp_path_factory.mktemp("space")
    model = folder / "tiny-model"
    tiny_model().save_pretrained(model)
    port = free_port()
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        GRADIO_SERVER_NAME="127.0.0.1",
        GRADIO_SERVER_PORT=str(port),
        GRADIO_ANALYTICS_ENABLED="False",
        HF_HUB_OFFLINE="1",
        MPLBACKEND="Agg",
    )
    log_path = folder / "app.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, str(APP), "--model", str(model), "--max-seconds", str(MAX_SECONDS)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"the app exited with code {process.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the app did not answer within {START_TIMEOUT_S} s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def client(app_url):
    gradio_client = pytest.importorskip("gradio_client")
    return gradio_client.Client(app_url, verbose=False)


def call_upmix(client, path, **settings):
    from gradio_client import handle_file

    return client.predict(handle_file(str(path)), **settings, api_name="/upmix")


def test_api_returns_stereo_of_the_same_length_with_variants_original_and_pictures(client, tmp_path):
    rate = 16000
    clip = tones(1.0, rate)
    sf.write(tmp_path / "clip.wav", clip, rate)
    result, variant_2, variant_3, variant_4, original, goniometer, field, summary = call_upmix(
        client, tmp_path / "clip.wav", style="auto", width=1.0, render="keep-mid", seed=3, variants=2
    )
    stereo, stereo_rate = sf.read(result, dtype="float32")
    assert stereo_rate == rate and stereo.shape == (clip.shape[0], 2)
    assert np.abs(stereo[:, 0] - stereo[:, 1]).max() > 1e-3  # not dual mono
    # mid-side rendering: the fold-down is the input times the peak-safety gain (to 16-bit rounding)
    mid = stereo.mean(axis=1)
    gain = float(mid @ clip / (clip @ clip))
    assert 0.5 < gain <= 1.0 + 1e-3
    np.testing.assert_allclose(mid, gain * clip, atol=2e-4)
    second, _ = sf.read(variant_2, dtype="float32")
    assert second.shape == stereo.shape and not np.allclose(second, stereo)
    assert variant_3 is None and variant_4 is None
    heard, _ = sf.read(original, dtype="float32")
    np.testing.assert_allclose(heard, clip, atol=1e-4)
    for picture in (goniometer, field):
        assert Path(picture).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "1.0 s" in summary and "2 variants" in summary


def test_api_trims_long_input_with_a_notice(client, tmp_path):
    rate = 8000
    sf.write(tmp_path / "long.flac", tones(MAX_SECONDS + 1.0, rate), rate)
    from gradio_client import handle_file

    # positional, as in the Space README's example
    result, *_, summary = client.predict(
        handle_file(str(tmp_path / "long.flac")), "auto", 1.0, "keep-mid", 0, 1, api_name="/upmix"
    )
    stereo, _ = sf.read(result)
    assert stereo.shape == (int(MAX_SECONDS * rate), 2)
    assert f"first {MAX_SECONDS:g} s" in summary


def test_api_answers_a_corrupt_file_with_a_message_and_keeps_serving(client, tmp_path):
    from gradio_client.exceptions import AppError

    corrupt = tmp_path / "broken.wav"
    corrupt.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(200)))
    with pytest.raises(AppError, match="cannot read broken.wav") as raised:
        call_upmix(client, corrupt)
    assert "/tmp/gradio" not in str(raised.value)  # the server's paths stay private
    rate = 8000
    sf.write(tmp_path / "after.wav", tones(0.25, rate), rate)
    result, *_ = call_upmix(client, tmp_path / "after.wav", seed=1)
    assert sf.read(result)[0].shape == (rate // 4, 2)


def test_api_asks_the_model_for_a_width_only_when_told_to(client, tmp_path):
    rate = 8000
    sf.write(tmp_path / "clip.wav", tones(0.5, rate), rate)
    free, *_ = call_upmix(client, tmp_path / "clip.wav", seed=2)
    unset, *_ = call_upmix(client, tmp_path / "clip.wav", seed=2, set_width=False, target_width_db=-20.0)
    narrow, *_, summary = call_upmix(client, tmp_path / "clip.wav", seed=2, set_width=True, target_width_db=-20.0)
    free_audio, unset_audio = sf.read(free)[0], sf.read(unset)[0]
    np.testing.assert_array_equal(free_audio, unset_audio)  # the slider alone changes nothing
    assert not np.array_equal(free_audio, sf.read(narrow)[0])  # asked for a width, the model makes another stereo
    assert "stereo width" in summary


def test_api_mixes_stems_into_stereo_that_folds_down_to_their_sum(client, tmp_path):
    from gradio_client import handle_file

    rate = 8000
    stems = {"drums": tones(1.0, rate, 0.3), "vocals": 0.2 * np.sin(2 * np.pi * 440 * np.arange(rate) / rate)}
    for name, audio in stems.items():
        sf.write(tmp_path / f"{name}.wav", audio.astype(np.float32), rate)
    files = [handle_file(str(tmp_path / f"{name}.wav")) for name in stems]
    mixed_path, picture, report, summary = client.predict(files, "vintage", 2, api_name="/mix")
    mixed, mixed_rate = sf.read(mixed_path, dtype="float32")
    assert mixed_rate == rate and mixed.shape == (rate, 2)
    variant = report["variants"][0]
    assert variant["style"] == "vintage" and variant["seed"] == 2
    assert {stem["name"]: stem["role"] for stem in variant["stems"]} == {"drums": "drums", "vocals": "vocals"}
    stem_sum = stems["drums"] + stems["vocals"]
    np.testing.assert_allclose(mixed.mean(axis=1), variant["peak_gain"] * stem_sum, atol=2e-4)  # 16-bit rounding
    assert Path(picture).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "2 stems" in summary and "vintage" in summary
    again, *_ = client.predict(files, "vintage", 2, api_name="/mix")
    np.testing.assert_array_equal(sf.read(again)[0], sf.read(mixed_path)[0])  # the same seed, the same mix


def test_api_mix_refuses_a_single_stem_with_a_message(client, tmp_path):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    sf.write(tmp_path / "bass.wav", tones(0.5, 8000), 8000)
    with pytest.raises(AppError, match="Upload 2 to 8 stems; got 1"):
        client.predict([handle_file(str(tmp_path / "bass.wav"))], "modern", 0, api_name="/mix")


def test_browser_uploads_a_clip_and_shows_the_stereo_and_its_field(app_url):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(app_url, wait_until="networkidle")
            assert page.locator("#masthead h1").inner_text() == "mono2stereo"
            page.locator("#input-audio input[type=file]").set_input_files(str(EXAMPLE))
            page.locator("#upmix-button").click()
            download = page.locator('#result-audio a[data-testid="download-link"]')
            download.wait_for(timeout=90_000)
            for picture in ("#goniometer img", "#stereo-field img"):
                page.locator(picture).wait_for(timeout=30_000)
                page.wait_for_function(
                    "selector => document.querySelector(selector)?.naturalWidth > 0", arg=picture, timeout=30_000
                )
            page.locator("#summary").get_by_text("upmixed with").wait_for(timeout=10_000)
            page.wait_for_timeout(500)  # let the waveforms finish drawing
            page.screenshot(path=str(ARTIFACTS / "space.png"), full_page=True)
            served = page.request.get(download.get_attribute("href"))
            stereo, rate = sf.read(io.BytesIO(served.body()))
        finally:
            browser.close()
    example, example_rate = sf.read(EXAMPLE)
    assert rate == example_rate and stereo.shape == (example.shape[0], 2)
