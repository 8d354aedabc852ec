"""CSV table: feature columns and a label column.

Options: ``path``; ``label`` (column name or 0-based index; default the last column);
``features`` (list of column names; default every other column); ``header`` true/false/"auto";
``delimiter`` (default: sniffed from the file); ``task`` "classification", "regression" or
"auto" (auto: a label that is not a number, or a whole number with few distinct values, is a
class); ``standardize`` (default true: features scaled by the training rows' mean and
standard deviation, kept in ``info.extra``).

A feature column that holds words (most cells are not numbers, e.g. "red", "blue") becomes
one 0/1 column per value, named ``column=value``. A row with the wrong number of cells or a
non-numeric cell in a number column is skipped and listed.
"""

from __future__ import annotations

import csv
import math
from typing import TYPE_CHECKING

from studio.data.base import DataError, DatasetInfo, TensorData
from studio.data.importers._common import Skipped, existing_file, finish
from studio.data.registry import dataset
from studio.spec.params import Param

if TYPE_CHECKING:  # torch loads when data is read, not when the importer is declared
    import torch

MAX_CLASSES = 100
MAX_CATEGORIES = 50


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _read_rows(path, delimiter, header) -> tuple[list[str] | None, list[tuple[int, list[str]]]]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            text = f.read()
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text (byte {exc.start}); is this a CSV file?") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    if not text.strip():
        raise DataError(f"{path}: the file is empty")
    sample = text[:64 * 1024]
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    reader = csv.reader(text.splitlines(), delimiter=delimiter)
    rows = [(reader.line_num, r) for r in reader if r and any(c.strip() for c in r)]
    if header is None or header == "auto":
        first = rows[0][1]
        # A first row with any non-number where the second row has numbers is a header.
        if len(rows) > 1:
            header = any(_number(a) is None and _number(b) is not None for a, b in zip(first, rows[1][1]))
        else:
            header = all(_number(c) is None for c in first)
    names = None
    if header:
        names = [c.strip() for c in rows[0][1]]
        rows = rows[1:]
    return names, rows


def _categories(rows, feat_cols, names, skipped: Skipped, path) -> dict[int, list[str] | None]:
    """Feature columns that hold words rather than numbers (most cells not numbers), with
    their sorted values; None for such a column with too many values to one-hot encode."""
    out: dict[int, list[str] | None] = {}
    for i in feat_cols:
        cells = [row[i].strip() for _, row in rows if row[i].strip()]
        words = [c for c in cells if _number(c) is None]
        if not cells or len(words) * 2 <= len(cells):
            continue
        values = sorted(set(cells))
        if len(values) > MAX_CATEGORIES:
            skipped.add(path, f"column {names[i]!r} left out: {len(values)} different texts is too many "
                              f"categories (at most {MAX_CATEGORIES})")
            out[i] = None
        else:
            out[i] = values
    return out


def _column(names: list[str], key, path) -> int:
    if isinstance(key, int) and not isinstance(key, bool):
        if not -len(names) <= key < len(names):
            raise DataError(f"{path}: column {key} is out of range; the file has {len(names)} columns")
        return key % len(names)
    if key in names:
        return names.index(key)
    raise DataError(f"{path}: no column named {key!r}; columns: {', '.join(names)}")


def row_values(row: list[str], feat_cols: list[int], categories: dict) -> tuple[list[float], int | None]:
    """A row's feature values (a word column as one 0/1 value per category), and the
    first column that should hold a number and does not (else None)."""
    values = []
    for i in feat_cols:
        if i in categories:  # one column per category, 1 where the row has it
            values += [float(row[i].strip() == c) for c in categories[i]]
        elif (v := _number(row[i])) is None:
            return values, i
        else:
            values.append(v)
    return values, None


def encode_rows(path, extra: dict) -> tuple[torch.Tensor, list[int]]:
    """The rows of another CSV file as this set's features ``[N, F]`` (the same columns,
    categories and standardisation as the training rows, from the set's ``info.extra``),
    and the line of each. Columns are found by the header's names; a file without a header
    must hold the feature columns alone, in order."""
    import torch

    path = existing_file(path, "CSV file")
    feature_names = list(extra.get("feature_names") or [])
    categories = dict(extra.get("categories") or {})
    columns = list(dict.fromkeys(n.split("=", 1)[0] if n.split("=", 1)[0] in categories else n
                                 for n in feature_names))
    names, rows = _read_rows(path, None, None)
    if not rows:
        raise DataError(f"{path}: has no data rows")
    if names is not None:
        missing = [c for c in columns if c not in names]
        if missing:
            raise DataError(f"{path}: no column named {missing[0]!r}; the model reads {', '.join(columns)}")
        cols = [names.index(c) for c in columns]
    else:
        if len(rows[0][1]) != len(columns):
            raise DataError(f"{path}: rows have {len(rows[0][1])} cells; the model reads {len(columns)} "
                            f"columns ({', '.join(columns)}); give a header row to pick them by name")
        cols = list(range(len(columns)))
    cats = {i: categories[c] for i, c in zip(cols, columns) if c in categories}
    xs, lines = [], []
    for line, row in rows:
        if len(row) <= max(cols):
            raise DataError(f"{path}:{line}: has {len(row)} cells, too few")
        values, bad = row_values(row, cols, cats)
        if bad is not None:
            raise DataError(f"{path}:{line}: column {columns[cols.index(bad)]!r}: {row[bad]!r} is not a number")
        xs.append(values)
        lines.append(line)
    x = torch.tensor(xs, dtype=torch.float32)
    if "feature_mean" in extra:
        x = (x - torch.tensor(extra["feature_mean"])) / torch.tensor(extra["feature_std"])
    return x, lines


@dataset("csv", "A CSV table: feature columns and a label column (classes or numbers)", builtin=False, params=(
    Param("path", "file", None, choices=(".csv", ".tsv", ".txt"), doc="The CSV file"),
    Param("label", "key", -1, doc="The label column: its name, or its position from 0 "
          "(-1: the last)"),
    Param("features", "strs", None, optional=True,
          doc="The feature columns by name (auto: every other column)"),
    Param("header", "bool", None, optional=True,
          doc="The first row names the columns (auto: when it holds words above numbers)"),
    Param("delimiter", "str", None, optional=True, doc="The cell separator (auto: from the file)"),
    Param("task", "choice", "auto", choices=("auto", "classification", "regression"),
          doc="auto: a label that is a word, or a whole number with few values, is a class"),
    Param("standardize", "bool", True, doc="Scale features by the training rows' mean and "
          "standard deviation")))
def load_csv(seed: int = 0, val_split: float = 0.2, path: str | None = None, label=-1, features=None,
             header=None, delimiter: str | None = None, task: str = "auto", standardize: bool = True):
    import torch

    path = existing_file(path, "CSV file")
    names, rows = _read_rows(path, delimiter, header)
    if not rows:
        raise DataError(f"{path}: has a header but no data rows")
    width = len(names) if names else len(rows[0][1])
    names = names or [f"column {i}" for i in range(width)]
    label_col = _column(names, label, path)
    if features is None:
        feat_cols = [i for i in range(width) if i != label_col]
    elif isinstance(features, (list, tuple)) and features:
        feat_cols = [_column(names, k, path) for k in features]
    else:
        raise DataError(f"option features must be a list of column names, got {features!r}")
    if not feat_cols:
        raise DataError(f"{path}: no feature columns besides the label {names[label_col]!r}")
    if label_col in feat_cols:
        raise DataError(f"{path}: column {names[label_col]!r} is both the label and a feature")

    skipped = Skipped()
    good = []
    for line, row in rows:
        if len(row) != width:
            skipped.add(path, f"has {len(row)} cells; the {'header' if names else 'first row'} has {width}", line)
        else:
            good.append((line, row))
    categories = _categories(good, feat_cols, names, skipped, path)
    feat_cols = [i for i in feat_cols if categories.get(i, ()) is not None]
    feature_names = [f"{names[i]}={c}" if i in categories else names[i] for i in feat_cols
                     for c in (categories.get(i) or [None])]
    xs, labels = [], []
    for line, row in good:
        values, bad = row_values(row, feat_cols, categories)
        if bad is not None:
            skipped.add(path, f"column {names[bad]!r}: {row[bad]!r} is not a number", line)
            continue
        lab = row[label_col].strip()
        if lab == "":
            skipped.add(path, f"the label {names[label_col]!r} is empty", line)
            continue
        xs.append(values)
        labels.append((line, lab))
    if not xs:
        raise DataError(f"{path}: no usable rows; first problem: {skipped[0] if skipped else 'none'}")

    numeric = [_number(v) for _, v in labels]
    if task == "auto":
        whole = all(v is not None and v == int(v) for v in numeric)
        distinct = len({v for _, v in labels})
        task = "classification" if (not whole and None in numeric) or (
            whole and distinct <= min(MAX_CLASSES, max(2, len(labels) // 2))) else "regression"
    classes = None
    keep = list(range(len(xs)))
    if task == "classification":
        if all(v is not None for v in numeric):
            classes = [str(int(v)) if v == int(v) else str(v) for v in sorted({v for v in numeric})]
            keys = [str(int(v)) if v == int(v) else str(v) for v in numeric]
        else:
            classes = sorted({v for _, v in labels})
            keys = [v for _, v in labels]
        index = {c: i for i, c in enumerate(classes)}
        y = torch.tensor([index[k] for k in keys], dtype=torch.long)
    else:
        keep = [i for i, v in enumerate(numeric) if v is not None]
        for i, v in enumerate(numeric):
            if v is None:
                skipped.add(path, f"the label {labels[i][1]!r} is not a number (regression)", labels[i][0])
        if not keep:
            raise DataError(f"{path}: no numeric labels for regression")
        y = torch.tensor([[numeric[i]] for i in keep], dtype=torch.float32)
    x = torch.tensor([xs[i] for i in keep], dtype=torch.float32)

    info = DatasetInfo("csv", task, f"Rows of {path.name}", classes=classes,
                       inputs={"x": {"kind": "vector", "features": len(feature_names)}},
                       extra={"path": str(path), "feature_names": feature_names,
                              "categories": {names[i]: c for i, c in categories.items() if c},
                              "label_name": names[label_col]})
    split = finish(TensorData({"x": x, "y": y}), info, skipped, seed, val_split)
    if standardize:
        train_x = split.train.fields["x"]
        mean = train_x.mean(0)
        std = train_x.std(0, unbiased=False).clamp_min(1e-8) if len(train_x) > 1 else torch.ones_like(mean)
        for part in (split.train, split.val):
            part.fields["x"] = (part.fields["x"] - mean) / std
        info.extra.update(feature_mean=mean.tolist(), feature_std=std.tolist())
    return split
