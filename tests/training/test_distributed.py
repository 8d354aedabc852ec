"""``torchrun --nproc_per_node=2`` on CPU (gloo): both ranks end with the same weights,
and only rank 0 writes files and prints."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import torch

from studio.resources import template_path

SCRIPT = textwrap.dedent("""
    import os, sys, torch
    torch.set_num_threads(1)
    from studio.cli import main
    from studio.training import TrainingCallback
    import studio.cli.train as cli_train

    out = sys.argv[1]

    class DumpWeights(TrainingCallback):
        def on_fit_end(self, trainer, result):
            torch.save(trainer.model.state_dict(), os.path.join(out, f"rank{trainer.rank}.pt"))

    # The command line's own printer, plus one callback that leaves each rank's weights.
    printer = cli_train._Printer
    cli_train._Printer = lambda as_json, **kw: type("P", (printer, DumpWeights), {})(as_json, **kw)
    sys.exit(main(["train", sys.argv[2], "--epochs", "1", "--batch-size", "128", "--out",
                   os.path.join(out, "run"), "--json"]))
""")


def test_torchrun_two_processes_train_one_model(tmp_path):
    script = tmp_path / "train_ddp.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         str(script), str(tmp_path), str(template_path("cnn_digits"))],
        capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
    assert [x["type"] for x in lines] == ["epoch", "summary"]  # rank 0 alone prints
    summary = lines[-1]
    assert summary["status"] == "completed" and summary["metrics"]["accuracy"] > 0.5
    a = torch.load(tmp_path / "rank0.pt", weights_only=True)
    b = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    run = tmp_path / "run"
    saved = torch.load(run / "checkpoints/last.ckpt", weights_only=True)["model"]
    assert all(torch.equal(saved[k], a[k]) for k in a)
    info = json.loads((run / "run.json").read_text())
    assert info["world_size"] == 2
    assert not list(tmp_path.glob("**/.*.tmp"))
