"""Sequence-to-sequence and detection evaluation, on runs of freshly built models: what
is reported must agree with the data and with the model's own greedy decoding."""

from __future__ import annotations

import pytest
import torch

from studio.compile.module import compile_graph
from studio.core.project import load
from studio.evaluation import evaluate
from studio.evaluation.report import report_html
from studio.resources import template_path
from studio.training.runs import RunFolder


def _run(tmp_path, name: str, data: dict):
    torch.manual_seed(0)
    project = load(template_path(name))
    project.data = data
    project = load(project.save(tmp_path / f"{name}.json"))
    run = RunFolder(tmp_path / "runs" / "fresh")
    run.path.mkdir(parents=True)
    run.write_info({"status": "completed", "settings": {"seed": 0, "val_split": 0.2}, "project": project.to_dict()})
    run.save_checkpoint("best", {"model": compile_graph(project.graph).state_dict(), "optimizer": {},
                                 "scheduler": {}, "epoch": 0, "batch": 0, "partial": [0.0, 0, 0.0], "rng": {},
                                 "history": []})
    return project, run.path


def test_seq2seq_rows_agree_with_greedy_decoding(tmp_path):
    from studio.data.builtin.dates import VOCAB
    from studio.tasks.seq2seq import greedy_decode

    def decode(ids) -> str:  # stop at EOS (2); padding and BOS (0, 1) are no characters
        out = []
        for i in ids.tolist():
            if i == 2:
                break
            out += [VOCAB[i]] if i > 2 else []
        return "".join(out)

    project, run = _run(tmp_path, "seq2seq_dates", {"dataset": "dates", "n": 100})
    torch.set_num_threads(1)
    result = evaluate(project, run)
    assert result.kind == "seq2seq" and result.samples == len(result.rows) > 0
    data = result.data.fields
    from studio.evaluation import load_run

    model = load_run(project, run).model
    tokens = greedy_decode(model, data, "tgt_in", steps=data["tgt_out"].shape[1], eos=2)
    for k in range(3):
        assert result.rows[k]["source"] == decode(data["src"][k])
        assert result.rows[k]["target"] == decode(data["tgt_out"][k])
        assert result.rows[k]["prediction"] == decode(tokens[k])
        assert len(result.rows[k]["differs"]) == len(result.rows[k]["prediction"])
    assert result.metrics["exact_match"] == pytest.approx(sum(r["correct"] for r in result.rows) / len(result.rows))
    assert sum(b["samples"] for b in result.curves["by_length"]) == result.samples
    assert "<mark>" in report_html(result) or all(r["correct"] for r in result.rows)


def test_detection_counts_every_true_box_per_class(tmp_path):
    project, run = _run(tmp_path, "shapes_detector", {"dataset": "shapes", "n": 60})
    torch.set_num_threads(1)
    result = evaluate(project, run)
    assert result.kind == "detection" and [r["class"] for r in result.table] == result.classes
    boxes = result.data.fields["boxes"]
    for c, row in enumerate(result.table):
        assert row["truths"] == int((boxes[..., 0] == c).sum())
    assert len(result.detections) == len(result.truths) == result.samples
    assert "map50" in result.metrics
