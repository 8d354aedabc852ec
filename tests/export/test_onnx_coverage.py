"""The README's operator table is the importer's own mapping, and names real layers."""

from __future__ import annotations

from pathlib import Path

from studio.export.onnx_coverage import section
from studio.export.onnx_ops import HANDLERS, MAPPINGS

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_table_is_generated_from_the_mapping():
    assert section() in README.read_text(encoding="utf-8"), \
        "README's ONNX operator table is stale: run python -m studio.export.onnx_coverage README.md"


def test_every_mapped_operator_names_registered_layers(registry):
    assert set(HANDLERS) == set(MAPPINGS)
    missing = {op: [t for t in m.layers if t not in registry] for op, m in MAPPINGS.items()}
    assert {op: ts for op, ts in missing.items() if ts} == {}
