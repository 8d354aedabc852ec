"""Files a person names are read only when they are regular files within a limit: a
device or a pipe named as a project, ONNX model or weights file is refused at once."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from studio.core.files import NotReadable, read_regular


def test_a_regular_file_is_read_and_a_large_one_refused(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"12345")
    assert read_regular(path, 10) == b"12345"
    with pytest.raises(NotReadable, match="at most 4"):
        read_regular(path, 4, "thing")


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_devices_are_refused_before_reading(device):
    with pytest.raises(NotReadable, match="not a regular file"):
        read_regular(device, 1 << 30)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_without_a_writer_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(NotReadable, match="not a regular file"):
        read_regular(fifo, 1 << 20)


@pytest.mark.parametrize("args", [
    ["import", "/dev/zero", "--out", "{tmp}/p.json"],
    ["export", "{template}", "--format", "onnx", "--out", "{tmp}/m.onnx", "--weights", "/dev/zero"],
])
def test_commands_refuse_a_device_in_one_line_and_exit_2(args, tmp_path):
    from studio.resources import template_path

    args = [a.format(tmp=tmp_path, template=template_path("cnn_digits")) for a in args]
    proc = subprocess.run([sys.executable, "-m", "studio", *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "not a regular file" in proc.stderr and "Traceback" not in proc.stderr
