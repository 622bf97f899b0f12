import subprocess
import sys

import pytest

from mono2stereo.cli import main


def test_help_lists_the_program_and_exits_zero(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "mono2stereo" in capsys.readouterr().out


def test_no_command_prints_help():
    assert main([]) == 0


def test_module_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "mono2stereo", "--version"], capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stdout.startswith("mono2stereo ")


@pytest.mark.parametrize(("given", "mode"), [("keep-mid", "keep-mid"), ("mid-side", "mid-side"), (None, "keep-mid")])
def test_upmix_takes_the_render_modes_and_the_old_name(given, mode):
    from mono2stereo.cli import build_parser

    argv = ["upmix", "in.wav", "-o", "out.wav", *(["--render", given] if given else [])]
    assert build_parser(argv).parse_args(argv).render == mode
