"""Undo restores exactly: after any sequence of edits undone back to the clean state the
saved file is byte-identical, and node order (the compiled model's input order) is kept."""

from __future__ import annotations

import random

import pytest

from studio.core.errors import GraphError
from studio.core.project import load
from studio.resources import template_names, template_path

TYPES = ["ReLU", "Linear", "Dropout", "Add", "Concat", "Input", "Output", "LayerNorm"]


@pytest.fixture
def open_doc(qtbot, registry):
    from studio.ui.document import Document

    def make(name):
        return Document(load(template_path(name), registry))
    return make


def _random_edit(doc, rng: random.Random) -> None:
    g = doc.graph
    ids = [n.id for n in g.nodes]
    action = rng.choice(["add", "delete", "delete", "connect", "disconnect", "rename", "rename",
                         "params", "move", "train", "paste"])
    if action == "add":
        doc.add_node(rng.choice(TYPES), (rng.uniform(0, 900), rng.uniform(0, 600)))
    elif action == "delete" and ids:
        doc.remove_nodes(rng.sample(ids, min(len(ids), rng.randint(1, 3))))
    elif action == "connect" and len(ids) > 1:
        src, dst = rng.sample(ids, 2)
        outs, ins = g.output_ports(src), g.input_ports(dst)
        if outs and ins:
            doc.connect(src, rng.choice(outs).name, dst, rng.choice(ins).name)
    elif action == "disconnect" and g.edges:
        doc.disconnect(rng.sample(g.edges, min(len(g.edges), rng.randint(1, 2))))
    elif action == "rename" and ids:
        doc.rename(rng.choice(ids), f"{rng.choice(['n', 'layer', 'forward', 'x'])}{rng.randint(0, 9)}")
    elif action == "params" and ids:
        node = g.node(rng.choice(ids))
        numeric = [p for p in g.spec(node).params if p.kind == "int" and p.min is not None and p.min >= 1]
        if numeric:
            p = rng.choice(numeric)
            doc.set_params(node.id, {p.name: int(p.min) + rng.randint(0, 3)})
    elif action == "move" and ids:
        i = rng.choice(ids)
        doc.move_nodes({i: (g.node(i).position, (rng.uniform(0, 900), rng.uniform(0, 600)))})
    elif action == "train" and ids:
        doc.set_training(rng.sample(ids, 1), frozen=rng.random() < 0.5, lr_scale=rng.choice([0.0, 0.5, 2.0]))
    elif action == "paste" and ids:
        doc.paste(doc.fragment(rng.sample(ids, min(len(ids), 2))))


@pytest.mark.parametrize("name", template_names())
def test_random_edits_undone_give_the_original_file_byte_for_byte(name, open_doc):
    rng = random.Random(f"undo-{name}")
    doc = open_doc(name)
    original = doc.project.dumps()
    inputs = [n.id for n in doc.graph.nodes if doc.graph.spec(n).role == "input"]
    for _ in range(6):
        for _ in range(rng.randint(3, 12)):
            try:
                _random_edit(doc, rng)
            except GraphError:
                pass  # a refused edit pushes nothing (asserted elsewhere)
        edited = doc.project.dumps()
        while doc.undo_stack.canUndo():
            doc.undo_stack.undo()
        assert not doc.modified
        assert doc.project.dumps() == original
        assert [n.id for n in doc.graph.nodes if doc.graph.spec(n).role == "input"] == inputs
        while doc.undo_stack.canRedo():
            doc.undo_stack.redo()
        assert doc.project.dumps() == edited  # redo is exact too
        while doc.undo_stack.canUndo():
            doc.undo_stack.undo()


def test_delete_then_undo_keeps_the_model_input_order(open_doc):
    doc = open_doc("seq2seq_dates")
    before = [n.id for n in doc.graph.nodes]
    doc.remove_nodes(["source"])
    doc.undo_stack.undo()
    assert [n.id for n in doc.graph.nodes] == before
    assert not doc.modified


def test_rename_keeps_the_node_in_place(open_doc):
    doc = open_doc("seq2seq_dates")
    before = [n.id for n in doc.graph.nodes]
    edges = [str(e) for e in doc.graph.edges]
    doc.rename("source", "src_tokens")
    after = [n.id for n in doc.graph.nodes]
    assert after == [("src_tokens" if i == "source" else i) for i in before]
    assert [str(e).replace("src_tokens.", "source.").replace("src_tokens.", "source.") for e in doc.graph.edges] \
        == edges
    doc.undo_stack.undo()
    assert [str(e) for e in doc.graph.edges] == edges


@pytest.mark.parametrize("name", ["forward", "layers", "class", "1abc", "a b"])
def test_refused_rename_pushes_nothing_and_undo_still_works(open_doc, name):
    doc = open_doc("cnn_digits")
    doc.set_params(doc.graph.nodes[1].id, {})  # nothing to undo yet
    doc.move_nodes({"image": (doc.graph.node("image").position, (5.0, 5.0))})
    count = doc.undo_stack.count()
    with pytest.raises(GraphError):
        doc.rename("image", name)
    assert doc.undo_stack.count() == count
    doc.undo_stack.undo()  # the move, not a failed rename
    assert not doc.modified
