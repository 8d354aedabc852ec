"""The project file: round trip, stable output, migration, malformed files, atomic save."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from studio.core import project as project_mod
from studio.core.errors import ProjectFileError
from studio.core.project import FORMAT, Project, load, loads
from studio.resources import template_names, template_path


def _small(graph):
    graph.add_node("Input", {"kind": "vector", "features": 4}, node_id="x", position=(0, 0))
    graph.add_node("Linear", {"out_features": 3}, node_id="fc", position=(200, 0))
    graph.add_node("CrossEntropyLoss", node_id="loss", position=(400, 0))
    graph.connect("x", "out", "fc", "in")
    graph.connect("fc", "out", "loss", "in")
    graph.set_training("fc", frozen=True, lr_scale=0.5)
    return Project(graph, name="small", data={"dataset": "digits"})


def test_round_trip_is_identical(graph, registry, tmp_path):
    p = _small(graph)
    path = p.save(tmp_path / "p.json")
    again = load(path, registry)
    assert again.dumps() == p.dumps()
    fc = again.graph.node("fc")
    assert fc.frozen and fc.lr_scale == 0.5 and fc.position == (200.0, 0.0)
    assert [str(e) for e in again.graph.edges] == ["x.out -> fc.in", "fc.out -> loss.in"]


def test_one_parameter_change_is_a_one_line_diff(graph):
    p = _small(graph)
    before = p.dumps().splitlines()
    graph.set_params("fc", {"out_features": 7})
    after = p.dumps().splitlines()
    changed = [(a, b) for a, b in zip(before, after) if a != b]
    assert len(before) == len(after) and len(changed) == 1
    assert '"out_features": 7' in changed[0][1]


@pytest.mark.parametrize("name", template_names())
def test_every_template_loads_and_round_trips(name, registry):
    p = load(template_path(name), registry)
    assert loads(p.dumps(), registry=registry).dumps() == p.dumps()


def test_legacy_layer_ids_load(registry):
    doc = {"format": FORMAT, "nodes": [{"id": "d", "type": "Dense", "params": {"out_features": 2}}], "edges": []}
    p = project_mod.from_dict(doc, registry=registry)
    assert p.graph.node("d").type == "Linear"


def test_migration_path_upgrades_old_files(registry, monkeypatch):
    # A future format 2 that renames "edges" to "wires": a format-1 file must load in it.
    def v1_to_v2(doc):
        doc = dict(doc)
        doc["wires"] = doc.pop("edges")
        return doc

    monkeypatch.setattr(project_mod, "FORMAT", 2)
    monkeypatch.setitem(project_mod.MIGRATIONS, 1, v1_to_v2)
    seen = {}
    original = project_mod.from_dict

    def check(doc, name="<project>", registry=None):
        migrated = project_mod.migrate(dict(doc), name)
        seen["keys"] = sorted(migrated)
        return original({**migrated, "edges": migrated["wires"], "format": 2}, name, registry)

    doc = {"format": 1, "nodes": [{"id": "a", "type": "ReLU"}, {"id": "b", "type": "ReLU"}],
           "edges": [{"from": "a.out", "to": "b.in"}]}
    p = check(doc, registry=registry)
    assert "wires" in seen["keys"] and "edges" not in seen["keys"]
    assert [str(e) for e in p.graph.edges] == ["a.out -> b.in"]


BAD = [
    (b"", "", "not valid JSON"),
    (b"\xff\xfe\x00garbage", "", "not UTF-8"),
    (b"[1, 2]", "$", "top level must be a JSON object"),
    (b'{"nodes": []}', "$.format", "missing or not a whole number"),
    (b'{"format": 99, "nodes": []}', "$.format", "newer Layer Studio"),
    (b'{"format": "1", "nodes": []}', "$.format", "whole number"),
    (b'{"format": 1}', "$", "missing 'nodes'"),
    (b'{"format": 1, "nodes": {}}', "$.nodes", "must be a list"),
    (b'{"format": 1, "nodes": [3]}', "$.nodes[0]", "must be an object"),
    (b'{"format": 1, "nodes": [{"type": "ReLU"}]}', "$.nodes[0]", "missing 'id'"),
    (b'{"format": 1, "nodes": [{"id": "a", "type": "Nope"}]}', "$.nodes[0]", "unknown layer type"),
    (b'{"format": 1, "nodes": [{"id": "a", "type": "Linear", "params": {"out_features": -3}}]}',
     "$.nodes[0].params.out_features", "in [1, 1e+06]"),
    (b'{"format": 1, "nodes": [{"id": "a", "type": "Linear", "params": {"out_features": NaN}}]}', "",
     "NaN is not allowed"),
    (b'{"format": 1, "nodes": [{"id": "a b", "type": "ReLU"}]}', "$.nodes[0]", "must start with a letter"),
    (b'{"format": 1, "nodes": [{"id": "a", "type": "ReLU"}, {"id": "a", "type": "ReLU"}]}', "$.nodes[1]",
     "already exists"),
    (b'{"format": 1, "nodes": [{"id": "a", "type": "ReLU"}], "edges": [{"from": "a.out", "to": "zz.in"}]}',
     "$.edges[0]", "no node named 'zz'"),
    (b'{"format": 1, "nodes": [{"id": "a", "type": "ReLU"}], "edges": [{"from": "aout", "to": "a.in"}]}',
     "$.edges[0].from", "node.port"),
    (b'{"format": 1, "nodes": [{"id": "a", "type": "ReLU"}], "edges": [["a", "out"]]}', "$.edges[0]",
     "must be an object"),
    (b'{"format": 1, "nodes": [{"id": "a", "type": "ReLU"}], "layout": {"a": [1]}}', "$.layout.a", "[x, y]"),
    (b'{"format": 1, "nodes": [], "training": {"epochs": 0}}', "$.training.epochs", "in [1,"),
    (b'{"format": 1, "nodes": [], "training": {"warp": 9}}', "$.training.warp", "unknown setting"),
    (b'{"format": 1, "nodes": [], "name": 5}', "$.name", "must be text"),
    (b'{"format": 1, "nodes": [], "data": {"x": ' + b"[" * 20 + b"1" + b"]" * 20 + b"}}", "$.data.x[0]*",
     "nested too deeply"),
    (b"[" * 100000 + b"]" * 100000, "", "not valid JSON"),
    (b'{"format": 1, "nodes": [{"id": "a", "type": "ReLU", "params": {"__class__": "os.system"}}]}',
     "$.nodes[0].params.__class__", "has no parameter"),
    # Numbers and text that would load but could not be saved, or crash the editor.
    (b'{"format": 1, "nodes": [{"id": "a", "type": "ReLU"}], "layout": {"a": [1e400, 0]}}', "$.layout.a[0]",
     "infinity"),
    (b'{"format": 1, "nodes": [], "data": {"dataset": "digits", "scale": -1e400}}', "$.data.scale", "infinity"),
    (b'{"format": 1, "nodes": [{"id": "a", "type": "Dropout", "params": {"p": 1' + b"0" * 30 + b'}}]}',
     "$.nodes[0].params.p", "too large"),
    (b'{"format": 1, "nodes": [{"id": "a", "type": "ReLU", "lr_scale": 1' + b"0" * 400 + b'}]}',
     "$.nodes[0].lr_scale", "too large"),
    (b'{"format": 1, "nodes": [{"id": "a", "type": "ReLU"}], "layout": {"a": [1' + b"0" * 30 + b', 0]}}',
     "$.layout.a[0]", "too large"),
    (b'{"format": 1, "nodes": [{"id": "a", "type": "ReLU"}], "layout": {"a": [1e30, 0]}}', "$.layout.a",
     "within"),
    (b'{"format": 1, "nodes": [{"id": "a", "type": "ReLU", "lr_scale": -1}]}', "$.nodes[0].lr_scale",
     "in [0, 1000]"),
    (b'{"format": 1, "nodes": [], "name": "bad \\ud800 name"}', "$.name", "unpaired surrogate"),
    (b'{"format": 1, "nodes": [], "data": {"\\udfff": 1}}', "$.data", "unpaired surrogate"),
]


@pytest.mark.parametrize("raw, where, fragment", BAD, ids=[str(i) for i in range(len(BAD))])
def test_malformed_files_give_one_clear_error(raw, where, fragment, tmp_path, registry):
    path = tmp_path / "broken.json"
    path.write_bytes(raw)
    with pytest.raises(ProjectFileError) as err:
        load(path, registry)
    msg = str(err.value)
    assert msg.startswith(str(path))
    if where.endswith("*"):
        assert err.value.where.startswith(where[:-1])
    else:
        assert err.value.where == where
    assert fragment in msg


def test_lr_scale_has_one_rule_for_files_and_edits(graph):
    from studio.core.graph import LR_SCALE_RANGE, BadTrainingValue

    graph.add_node("ReLU", node_id="a")
    with pytest.raises(BadTrainingValue, match=r"in \[0, 1000\]"):
        graph.set_training("a", frozen=True, lr_scale=-1)
    assert graph.node("a").frozen is False  # a refused edit changes nothing
    with pytest.raises(BadTrainingValue):
        graph.add_node("ReLU", node_id="b", lr_scale=LR_SCALE_RANGE[1] * 2)
    assert "b" not in graph


def test_stale_temporaries_of_a_killed_save_are_removed_by_the_next_save_and_open(graph, tmp_path):
    p = _small(graph)
    path = p.save(tmp_path / "p.json")
    stale = tmp_path / ".p.json.abc123.tmp"
    stale.write_text("half a project")
    fresh = tmp_path / ".p.json.def456.tmp"  # another window's save under way right now
    fresh.write_text("being written")
    other = tmp_path / ".q.json.abc123.tmp"  # some other file's temporary: not ours to touch
    other.write_text("x")
    old = os.stat(path).st_mtime - 3600
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    p.save()
    assert not stale.exists() and fresh.exists() and other.exists()
    stale.write_text("again")
    os.utime(stale, (old, old))
    load(path)
    assert not stale.exists() and other.exists()


def test_missing_file_and_folder(tmp_path, registry):
    with pytest.raises(ProjectFileError, match="no such file"):
        load(tmp_path / "nope.json", registry)
    with pytest.raises(ProjectFileError, match="is a folder"):
        load(tmp_path, registry)


def test_cycles_in_a_file_load_and_are_reported(registry, tmp_path):
    from studio.core.analysis import analyze

    doc = {"format": 1, "nodes": [{"id": "a", "type": "ReLU"}, {"id": "b", "type": "ReLU"}],
           "edges": [{"from": "a.out", "to": "b.in"}, {"from": "b.out", "to": "a.in"}]}
    path = tmp_path / "cyc.json"
    path.write_text(json.dumps(doc))
    problems = analyze(load(path, registry).graph).problems
    assert any(p.code == "cycle" and "a, b" in p.message for p in problems)


def test_failed_save_keeps_the_old_file_and_leaves_no_temp(graph, tmp_path, monkeypatch):
    p = _small(graph)
    path = p.save(tmp_path / "p.json")
    before = path.read_bytes()
    graph.set_params("fc", {"out_features": 9})

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        p.save(path)
    assert path.read_bytes() == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["p.json"]


def test_process_killed_mid_save_leaves_the_old_file(graph, tmp_path):
    """A real crash: the saving process dies after writing the temporary file."""
    p = _small(graph)
    path = p.save(tmp_path / "p.json")
    before = path.read_bytes()
    script = textwrap.dedent(f"""
        import os
        from studio.core import atomic
        from studio.core.project import load
        p = load({str(path)!r})
        p.graph.set_params("fc", {{"out_features": 11}})
        os.replace = lambda *a, **k: os._exit(9)   # power cut between write and rename
        p.save()
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert proc.returncode == 9, proc.stderr.decode()
    assert path.read_bytes() == before
    assert load(path).graph.node("fc").params["out_features"] == 3


def test_a_snapshot_is_independent_and_keeps_where_the_project_lives(tmp_path):
    from studio.core.project import weights_beside

    project = load(template_path(template_names()[0]))
    project.path = tmp_path / "mine.json"
    copy = project.snapshot()
    assert copy.to_dict() == project.to_dict()
    assert (copy.path, copy.origin) == (project.path, template_path(template_names()[0]))
    first = project.graph.nodes[0].id
    project.graph.nodes[0].params["changed"] = 1  # the editor goes on editing its own copy
    assert "changed" not in copy.graph.node(first).params
    assert weights_beside(copy.path) == tmp_path / "mine.weights.safetensors"
