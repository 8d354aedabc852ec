"""On a terminal ``studio train`` draws a live bar and ``export`` a spinner naming its step;
into a pipe they write plain lines."""

import os
import re
import subprocess
import sys

import pytest

from studio.core.project import load
from studio.resources import template_path

ESCAPE = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def project_file(tmp_path):
    project = load(template_path("cnn_digits"))
    project.training.update(batch_size=64, schedule="none")
    path = tmp_path / "digits.json"
    project.save(path)
    return path


def _command(project_file, run):
    return [sys.executable, "-m", "studio", "train", str(project_file), "--epochs", "2", "--out", str(run)]


def _env():
    return {**os.environ, "OMP_NUM_THREADS": "1", "TERM": "xterm", "COLUMNS": "120"}


def _on_a_terminal(command) -> bytes:
    """Run ``command`` with a pseudo-terminal as its stdout and stderr; what it wrote."""
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    proc = subprocess.Popen(command, stdout=slave, stderr=slave, env=_env())
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert proc.wait(120) == 0, out.decode(errors="replace")
    return out


def test_on_a_terminal_a_live_bar_follows_the_batches_and_one_line_stays_per_epoch(project_file, tmp_path):
    out = _on_a_terminal(_command(project_file, tmp_path / "run"))
    assert ESCAPE.search(out), "the bar redraws its line with terminal escapes"
    text = ESCAPE.sub(b"", out).decode()
    # The bar: epoch, batches done of the epoch, the running loss, samples/s and the run's ETA.
    bar = re.findall(r"Epoch (\d)/2 \S* +(\d+)/(\d+) loss (\S+) (\S+) samples/s ETA (\d+:\d\d|–)", text)
    assert bar, text
    assert {b[0] for b in bar} == {"1", "2"}
    assert any(b[1] == b[2] and b[3] != "–" and b[4] != "–" for b in bar), "an epoch's bar reaches its end"
    # One summary line per epoch stays (the bar itself is wiped when training ends).
    summaries = [line for line in text.replace("\r", "\n").splitlines() if line.startswith("epoch ")]
    assert [s.split()[1] for s in summaries] == ["1/2", "2/2"]
    assert all("samples/s" in s and "ETA" in s for s in summaries)
    assert "completed: 2 epoch(s)" in text


def test_into_a_pipe_only_the_plain_lines_are_written(project_file, tmp_path):
    proc = subprocess.run(_command(project_file, tmp_path / "run"), capture_output=True, env=_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout.decode()
    assert "\x1b" not in out and "\r" not in out
    lines = out.splitlines()
    assert lines[0].startswith("training on cpu for 2 epoch(s)")
    assert [line.split()[:2] for line in lines[1:3]] == [["epoch", "1/2"], ["epoch", "2/2"]]
    assert lines[3].startswith("completed: 2 epoch(s)")


def test_export_on_a_terminal_names_its_steps_and_into_a_pipe_prints_only_the_result(project_file, tmp_path):
    command = [sys.executable, "-m", "studio", "export", str(project_file), "--format", "pytorch"]
    out = _on_a_terminal([*command, "--out", str(tmp_path / "a.py")])
    text = ESCAPE.sub(b"", out).decode()
    assert "exporting (30%)" in text  # the step and how far the export is
    assert "wrote " in text
    piped = subprocess.run([*command, "--out", str(tmp_path / "b.py")], capture_output=True, env=_env(), timeout=120)
    assert piped.returncode == 0
    assert "building the model" not in piped.stdout.decode() and piped.stdout.decode().startswith("wrote ")


def test_evaluate_on_a_terminal_names_its_steps_and_into_a_pipe_prints_only_the_figures(project_file, tmp_path):
    run = tmp_path / "run"
    subprocess.run(_command(project_file, run), capture_output=True, env=_env(), timeout=120, check=True)
    command = [sys.executable, "-m", "studio", "evaluate", str(project_file), "--weights", str(run)]
    text = ESCAPE.sub(b"", _on_a_terminal(command)).decode()
    assert "evaluating on the val split" in text
    piped = subprocess.run(command, capture_output=True, env=_env(), timeout=120)
    assert piped.returncode == 0, piped.stderr.decode()
    assert "evaluating on the" not in piped.stdout.decode() and "\x1b" not in piped.stdout.decode()
