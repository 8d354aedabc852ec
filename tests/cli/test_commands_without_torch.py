"""Commands that need no torch start without importing it (torch alone takes seconds to
import): help, check, the device list on a machine that has only a CPU, the dataset list."""

from __future__ import annotations

import subprocess
import sys

import pytest

from studio.resources import template_path

RUN = ("import sys\n"
       "from studio.cli import main\n"
       "code = main(sys.argv[1:])\n"
       "print('torch' in sys.modules, 'numpy' in sys.modules, code, file=sys.stderr)\n")


@pytest.mark.parametrize("argv", [
    ["--help"],
    ["check", str(template_path("cnn_digits"))],
    ["check", str(template_path("lstm_speech")), "--json"],
    ["devices", "--json"],
    ["devices"],
    ["data", "--list"],
    ["export", "--help"],
    ["bench", "--help"],
    ["nosuch-command"],
], ids=lambda argv: " ".join(argv[:1] + [a for a in argv[1:] if a.startswith("-")]))
def test_leaves_torch_unimported(argv):
    proc = subprocess.run([sys.executable, "-c", RUN, *argv], capture_output=True, text=True, timeout=120)
    torch_loaded, numpy_loaded, code = proc.stderr.strip().splitlines()[-1].split()
    if argv[0] == "devices" and _could_accelerate():
        pytest.skip("this install could have a GPU: listing devices probes it through torch")
    assert torch_loaded == "False", proc.stderr
    assert code in ("0", "2")


def _could_accelerate() -> bool:
    import importlib.util

    from studio.training.devices import built_with_gpu

    return built_with_gpu() or sys.platform == "darwin" or importlib.util.find_spec("torch_xla") is not None


def test_the_build_is_told_without_importing_torch():
    import torch

    from studio.training.devices import built_with_gpu

    assert built_with_gpu() == (torch.version.cuda is not None or torch.version.hip is not None)


def test_without_torch_the_cpu_is_listed_and_auto_picks_it(capsys):
    import json

    code = subprocess.run([sys.executable, "-m", "studio", "devices", "--json"], capture_output=True, text=True,
                          timeout=120)
    lines = [json.loads(x) for x in code.stdout.splitlines()]
    cpu = [x for x in lines if x.get("id") == "cpu"][0]
    assert cpu["available"] and cpu["cores"] >= 1
    assert lines[-1]["type"] == "summary" and "cpu" in lines[-1]["available"]
