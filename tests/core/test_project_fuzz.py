"""Mutated project files: each one either loads, saves and reloads to the same text, or is
refused with one short :class:`ProjectFileError` that names the file and the JSON path."""

from __future__ import annotations

import copy
import json
import random

import pytest

from studio.core.errors import ProjectFileError
from studio.core.project import loads
from studio.resources import template_names, template_path

SEED = 20261129
CASES_PER_TEMPLATE = 100

ODD_VALUES = [
    None, True, False, 0, -1, 1, 3, 2**31, 2**53 + 1, 10**30, -(10**400), 0.5, -0.0, 1e-300, 1e308, 1e400,
    "", "x", "ReLU", "a.out", "\ud800", "é" * 3, "x" * 5000, [], [1, 2], [[[]]], {}, {"a": 1},
    {"id": "n", "type": "ReLU"},
]


def _paths(value, where=()):
    """Every JSON path in ``value`` (tuples of keys and indices)."""
    yield where
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*where, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*where, i))


def _get(doc, path):
    for key in path:
        doc = doc[key]
    return doc


def _mutate(doc: dict, rng: random.Random) -> dict:
    doc = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 3)):
        paths = [p for p in _paths(doc) if p]
        path = rng.choice(paths)
        parent, key = _get(doc, path[:-1]), path[-1]
        action = rng.random()
        if action < 0.45:
            parent[key] = copy.deepcopy(rng.choice(ODD_VALUES))
        elif action < 0.6:
            del parent[key]
        elif action < 0.75 and isinstance(parent, list):
            parent.insert(rng.randrange(len(parent) + 1), copy.deepcopy(parent[key]))
        elif action < 0.85 and isinstance(parent, dict):
            parent[rng.choice(["__class__", "id", "type", "params", "x" * 300, "nodes"])] = copy.deepcopy(
                rng.choice(ODD_VALUES))
        else:  # a string turned into a near miss (a renamed node, a misspelt type or port)
            value = parent[key]
            if isinstance(value, str) and value:
                i = rng.randrange(len(value))
                parent[key] = value[:i] + rng.choice("._ Z9\u00e9") + value[i + 1:]
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                parent[key] = rng.choice([-value, value * 1000, value + 1, value / 7])
    return doc


def _bytes_mutation(text: str, rng: random.Random) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(chars))
        chars[i] = rng.choice(['"', "{", "]", ",", ":", "0", "\\", "e", "9"])
    return "".join(chars)


@pytest.mark.parametrize("template", template_names())
def test_mutated_files_load_save_and_reload_identically_or_give_one_clear_error(template, registry):
    rng = random.Random(f"{SEED}-{template}")
    original = json.loads(template_path(template).read_text())
    loaded = refused = 0
    for case in range(CASES_PER_TEMPLATE):
        if case % 5 == 4:
            text = _bytes_mutation(json.dumps(original, indent=1), rng)
        else:
            text = json.dumps(_mutate(original, rng), indent=1)
        name = f"{template}-case{case}.json"
        try:
            project = loads(text, name, registry)
        except ProjectFileError as exc:
            refused += 1
            message = str(exc)
            assert message.startswith(name), message
            assert "\n" not in message and len(message) < 700, message
            assert exc.where == "" or exc.where.startswith("$"), exc.where
            assert exc.where or "JSON" in message or "format" in message or "UTF-8" in message, message
            continue
        loaded += 1
        saved = project.dumps()
        again = loads(saved, name, registry).dumps()
        assert again == saved, f"case {case}: the saved file does not reload identically"
    # The mutations must exercise both outcomes, or the test proves nothing.
    assert loaded >= 2 and refused >= 2, (loaded, refused)
