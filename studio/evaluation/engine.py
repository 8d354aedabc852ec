"""Run a trained model over a split and work out what it learned.

One pass in inference mode, batch by batch, keeping only what the report needs per
sample (the predicted class, its probability, the top five), so evaluating costs little
more than the forward pass itself. Which report applies comes from the loss's
declaration (``LossRole.task``), never from a layer's type name.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from studio.evaluation import metrics as M
from studio.evaluation.data import evaluation_data
from studio.evaluation.result import EvaluationResult
from studio.evaluation.run import EvaluationError, LoadedRun, NotEvaluable, load_run

TOP_K = 5
BATCH = 256


def evaluate(project, run: str | Path | LoadedRun, split: str = "val", *, checkpoint: str | None = None,
             output: str | None = None, batch_size: int = BATCH, data=None) -> EvaluationResult:
    """Evaluate the run ``run`` of ``project`` (a run folder, or one loaded with
    :func:`load_run`) on ``split`` ("val" or "test"). ``output`` picks a loss node when
    the graph has several (default: the first whose declaration says what it predicts).
    ``data``: ``(samples, info)`` to use instead of the project's split."""
    loaded = run if isinstance(run, LoadedRun) else load_run(project, run, checkpoint)
    model = loaded.model
    samples, info = data if data is not None else evaluation_data(project, loaded.settings, split)
    out_index, loss = _pick_output(model, output)
    if len(samples) == 0:
        raise EvaluationError(f"the {split} split holds no samples")
    names = set(samples.fields) if hasattr(samples, "fields") else set(samples[0])
    missing = [f for f in [*model.input_fields, loss.target] if f not in names]
    if missing:
        raise EvaluationError(f"the data has no field {missing[0]!r}, which the model reads "
                              f"(it has {', '.join(sorted(names))})")
    common = dict(output=model.outputs[out_index].node, split=split, run=str(loaded.folder.path),
                  checkpoint=loaded.checkpoint, samples=len(samples), data=samples)
    first = model.input_fields[0]
    common.update(input_field=first, input_spec=dict(info.inputs.get(first, {})))
    if loss.task == "classification" and _is_seq2seq(model, samples, loss):
        return _seq2seq(model, samples, info, out_index, loss, batch_size, common)
    runner = {"classification": _classification, "binary": _binary, "regression": _regression,
              "detection": _detection}.get(loss.task)
    if runner is None:
        raise NotEvaluable(f"loss {common['output']!r} does not declare what it predicts, so it "
                              "cannot be evaluated")
    return runner(model, samples, info, out_index, loss, batch_size, common)


def _pick_output(model, output: str | None):
    losses = [(i, o) for i, o in enumerate(model.outputs) if o.loss is not None]
    if output is not None:
        for i, o in losses:
            if o.node == output:
                return i, o.loss
        raise EvaluationError(f"the graph has no loss {output!r}; its losses: "
                              f"{', '.join(o.node for _, o in losses) or 'none'}")
    for i, o in losses:
        if o.loss.task is not None:
            return i, o.loss
    raise NotEvaluable("the graph has no loss that says what it predicts, so there is nothing to evaluate")


def batches(model, samples, fields: list[str], batch_size: int):
    """``(batch, output tuple)`` over ``samples`` in stored order, in inference mode."""
    from studio.training.batches import Batches

    feed = Batches(samples, fields, batch_size, torch.device("cpu"), train=False, workers=0)
    with torch.inference_mode():
        for batch in feed.epoch(feed.order(0, 0)):
            outs = model(*[batch[f] for f in model.input_fields])
            yield batch, outs if isinstance(outs, tuple) else (outs,)


def _fields(model, loss) -> list[str]:
    return list(dict.fromkeys([*model.input_fields, loss.target]))


def _classification(model, samples, info, i, loss, batch_size, common) -> EvaluationResult:
    preds, confs, tops, topp, truths = [], [], [], [], []
    positive = []
    for batch, outs in batches(model, samples, _fields(model, loss), batch_size):
        logits = outs[i].float()
        target = batch[loss.target]
        if logits.dim() > 2:  # per position (sequence labelling): every labelled position counts
            logits = logits.reshape(-1, logits.shape[-1])
            target = target.reshape(-1)
        if loss.ignore_index is not None:
            keep = target != loss.ignore_index
            if not bool(keep.all()):
                logits, target = logits[keep], target[keep]
        prob = logits.softmax(-1)
        p, c = prob.topk(min(TOP_K, prob.shape[-1]), dim=-1)
        preds.append(c[:, 0])
        confs.append(p[:, 0])
        tops.append(c)
        topp.append(p)
        truths.append(target)
        if prob.shape[-1] == 2:
            positive.append(prob[:, 1])
    pred = torch.cat(preds).numpy()
    true = torch.cat(truths).long().numpy()
    n_classes = int(tops[0].shape[-1]) if tops[0].shape[-1] > 1 else 1
    n_classes = max(_class_count(model, i), n_classes, int(true.max()) + 1 if len(true) else 0)
    top_index, top_prob = torch.cat(tops).numpy(), torch.cat(topp).numpy()
    classes = _class_names(info, n_classes)
    metrics = {"accuracy": float((pred == true).mean()) if len(true) else float("nan")}
    if n_classes > 5:
        metrics["top5_accuracy"] = float((top_index[:, :5] == true[:, None]).any(axis=1).mean())
    scores = torch.cat(positive).numpy() if positive else None
    if samples is not None and len(true) != len(samples):  # positions, not samples: no gallery
        common = {**common, "data": None}
    return _class_report(common, classes, pred, true, torch.cat(confs).numpy(), top_index, top_prob, metrics, scores)


def _class_report(common, classes, pred, true, conf, top_index, top_prob, metrics, scores) -> EvaluationResult:
    n = len(classes)
    matrix = M.confusion_matrix(true, pred, n)
    per = M.per_class(matrix)
    table = [{"class": classes[c], "precision": float(per["precision"][c]), "recall": float(per["recall"][c]),
              "f1": float(per["f1"][c]), "support": int(per["support"][c])} for c in range(n)]
    metrics["macro_f1"] = float(np.nanmean(per["f1"])) if np.isfinite(per["f1"]).any() else float("nan")
    pairs = [{"true": classes[t], "predicted": classes[p], "count": k} for t, p, k in M.confused_pairs(matrix)]
    curves = {}
    if scores is not None and n == 2:
        curves = {"pr": M.pr_curve(scores, true == 1), "roc": M.roc_curve(scores, true == 1)}
    return EvaluationResult(kind="classification", metrics=metrics, classes=classes, confusion=matrix, table=table,
                            pairs=pairs, curves=curves, predicted=pred, truth=true, confidence=conf,
                            top_index=top_index, top_prob=top_prob, wrong=pred != true, **common)


def _class_count(model, i: int) -> int:
    shape = model.output_shapes[i]
    last = shape.dims[-1] if shape is not None and shape.dims else None
    return last if isinstance(last, int) else 0


def _class_names(info, n: int) -> list[str]:
    names = list(info.classes or [])
    return names[:n] + [str(c) for c in range(len(names), n)] if len(names) != n else names


def _binary(model, samples, info, i, loss, batch_size, common) -> EvaluationResult:
    probs, truths = [], []
    for batch, outs in batches(model, samples, _fields(model, loss), batch_size):
        logits = outs[i].float()
        probs.append(torch.sigmoid(logits.reshape(logits.shape[0], -1)))
        truths.append(batch[loss.target].float().reshape(logits.shape[0], -1))
    prob, true = torch.cat(probs).numpy(), torch.cat(truths).numpy() > 0.5
    if prob.shape[1] == 1:  # one score: a two-class problem
        p = prob[:, 0]
        pred = (p > 0.5).astype(np.int64)
        conf = np.where(pred == 1, p, 1 - p)
        top_index = np.stack([pred, 1 - pred], axis=1)
        top_prob = np.stack([conf, 1 - conf], axis=1)
        classes = list(info.classes) if info.classes and len(info.classes) == 2 else ["0", "1"]
        metrics = {"accuracy": float((pred == true[:, 0]).mean())}
        return _class_report(common, classes, pred, true[:, 0].astype(np.int64), conf, top_index, top_prob,
                             metrics, p)
    pred = prob > 0.5
    tp = (pred & true).sum(0)
    fp = (pred & ~true).sum(0)
    fn = (~pred & true).sum(0)
    classes = _class_names(info, prob.shape[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), np.nan)
        recall = np.where(tp + fn > 0, tp / (tp + fn), np.nan)
        f1 = 2 * precision * recall / (precision + recall)
    table = [{"class": classes[c], "precision": float(precision[c]), "recall": float(recall[c]),
              "f1": float(f1[c]), "support": int(true[:, c].sum())} for c in range(len(classes))]
    wrong = (pred != true).any(1)
    conf = np.where(pred, prob, 1 - prob).min(1)
    order = np.argsort(-prob, axis=1)[:, :TOP_K]
    metrics = {"label_accuracy": float((pred == true).mean()), "exact_match": float((~wrong).mean()),
               "macro_f1": float(np.nanmean(f1)) if np.isfinite(f1).any() else float("nan")}
    return EvaluationResult(kind="multilabel", metrics=metrics, classes=classes, table=table, predicted=pred,
                            truth=true, confidence=conf, top_index=order,
                            top_prob=np.take_along_axis(prob, order, 1), wrong=wrong, **common)


def _regression(model, samples, info, i, loss, batch_size, common) -> EvaluationResult:
    preds, truths = [], []
    for batch, outs in batches(model, samples, _fields(model, loss), batch_size):
        p = outs[i].float()
        preds.append(p.reshape(p.shape[0], -1))
        truths.append(batch[loss.target].float().reshape(p.shape[0], -1))
    pred, true = torch.cat(preds).numpy(), torch.cat(truths).numpy()
    metrics = M.regression_figures(pred.ravel(), true.ravel())
    err = np.abs(pred - true).mean(1)
    spread = float(np.abs(true - true.mean()).mean()) or 1.0
    counts, edges = np.histogram((pred - true).ravel(), bins=30)
    curves = {"residuals": {"counts": counts.tolist(), "edges": edges.tolist()}}
    # "wrong": off by more than the mean spread of the targets; confidence: the smaller the error, the higher
    return EvaluationResult(kind="regression", metrics=metrics, predicted=pred, truth=true,
                            confidence=-err, wrong=err > spread, curves=curves, **common)


def _detection(model, samples, info, i, loss, batch_size, common) -> EvaluationResult:
    from studio.tasks.detection import average_precision, detect, match_class, truth_boxes

    dets, truths = [], []
    for batch, outs in batches(model, samples, _fields(model, loss), batch_size):
        dets += [d.cpu() for d in detect(outs[i].float(), 0.01, 0.5)]
        truths += truth_boxes(batch[loss.target])
    n_classes = int(model.outputs[i].params.get("classes", 0)) or len(info.classes or [])
    classes = _class_names(info, n_classes)
    table, curves, aps = [], {}, []
    for c in range(n_classes):
        scores, matched, n_truth = match_class(dets, truths, c, 0.5)
        ap = average_precision(scores, matched, n_truth)
        curve = M.pr_curve(scores.numpy(), matched.numpy()) if n_truth else {"precision": [], "recall": []}
        curve["recall"] = [r * 1.0 for r in curve["recall"]]
        curves[classes[c]] = curve
        table.append({"class": classes[c], "ap50": ap, "truths": n_truth, "detections": int(len(scores))})
        if n_truth:
            aps.append(ap)
    shown = [d[d[:, 0] >= 0.3] for d in dets]
    wrong = np.array([_misses(d, t) for d, t in zip(shown, truths)], dtype=bool)
    conf = np.array([float(d[:, 0].max()) if len(d) else 0.0 for d in shown])
    metrics = {"map50": float(np.mean(aps)) if aps else float("nan")}
    return EvaluationResult(kind="detection", metrics=metrics, classes=classes, table=table, curves={"pr": curves},
                            detections=[d.numpy() for d in shown], truths=[t.numpy() for t in truths],
                            confidence=conf, wrong=wrong, **common)


def _misses(det: torch.Tensor, truth: torch.Tensor) -> bool:
    """An image with a true box no detection of its class found, or a detection of no true box."""
    from studio.tasks.detection import box_iou

    if len(det) == 0 or len(truth) == 0:
        return len(det) != len(truth)
    iou = box_iou(det[:, 2:], truth[:, 1:])
    same = det[:, 1:2].long() == truth[None, :, 0].long()
    hit = (iou >= 0.5) & same
    return bool((~hit.any(0)).any() or (~hit.any(1)).any())


def _is_seq2seq(model, samples, loss) -> bool:
    from studio.tasks.seq2seq import Seq2SeqError, decoder_field

    batch = samples[0:2] if hasattr(samples, "fields") else _stack([samples[0]])
    target = batch.get(loss.target)
    if target is None or target.dim() != 2:
        return False
    try:
        decoder_field(model, batch, loss.target)
    except Seq2SeqError:
        return False
    return True


def _stack(items: list[dict]) -> dict:
    return {k: torch.stack([torch.as_tensor(s[k]) for s in items]) for k in items[0]}


def _seq2seq(model, samples, info, i, loss, batch_size, common) -> EvaluationResult:
    from studio.tasks.seq2seq import _eos, decoder_field, greedy_decode

    ignore = loss.ignore_index if loss.ignore_index is not None else -100
    vocab = info.extra.get("vocab") or info.classes or []
    special = {info.extra.get(k) for k in ("pad", "bos", "eos")} - {None}
    eos = info.extra.get("eos")
    rows, correct_tokens, total_tokens = [], 0, 0
    wrong, conf = [], []
    by_length: dict[int, list[int]] = {}
    decoder = None
    source = next((f for f in model.input_fields if f not in (loss.target,)), model.input_fields[0])
    fields = _fields(model, loss)
    from studio.training.batches import Batches

    feed = Batches(samples, fields, batch_size, torch.device("cpu"), train=False, workers=0)
    with torch.inference_mode():
        for batch in feed.epoch(feed.order(0, 0)):
            target = batch[loss.target]
            decoder = decoder or decoder_field(model, batch, loss.target)
            source = next((f for f in model.input_fields if f != decoder), source)
            tokens = greedy_decode(model, batch, decoder, steps=target.shape[1],
                                   eos=eos if eos is not None else _eos(target, ignore), output=common["output"])
            valid = target != ignore
            hits = (tokens == target) & valid
            correct_tokens += int(hits.sum())
            total_tokens += int(valid.sum())
            whole = ((tokens == target) | ~valid).all(1)
            lengths = valid.sum(1)
            for k in range(len(target)):
                ok = bool(whole[k])
                by_length.setdefault(int(lengths[k]), [0, 0])
                by_length[int(lengths[k])][0] += ok
                by_length[int(lengths[k])][1] += 1
                pred_text = _text(tokens[k].tolist(), vocab, special, eos)
                true_text = _text(target[k].tolist(), vocab, special, eos)
                rows.append({"source": _text(batch[source][k].tolist(), vocab, special, None),
                             "prediction": pred_text, "target": true_text, "correct": ok,
                             "differs": M.char_diff(pred_text, true_text)})
                wrong.append(not ok)
                conf.append(float(hits[k].sum()) / max(1, int(valid[k].sum())))
    n = len(rows)
    metrics = {"exact_match": sum(r["correct"] for r in rows) / n if n else float("nan"),
               "token_accuracy": correct_tokens / total_tokens if total_tokens else float("nan")}
    curves = {"by_length": [{"length": k, "accuracy": v[0] / v[1], "samples": v[1]}
                            for k, v in sorted(by_length.items())]}
    return EvaluationResult(kind="seq2seq", metrics=metrics, classes=list(vocab), rows=rows, curves=curves,
                            confidence=np.array(conf), wrong=np.array(wrong, dtype=bool), **common)


def _text(ids: list[int], vocab: list[str], special: set, eos) -> str:
    out = []
    for t in ids:
        if eos is not None and t == eos:
            break
        if t in special or not 0 <= t < len(vocab):
            continue
        out.append(vocab[t])
    return "".join(out)
