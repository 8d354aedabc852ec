"""The kinds of data an Input node reads, each declared once.

A kind says which of the Input's parameters describe one sample, the tensor shape they
give, which axis is a length that may vary (exports keep it dynamic), what a stand-in
sample looks like when no data is at hand (export checks, code generation), and how the
data panel previews it. The Input layer, the data fit check, the exporters and the data
panel all read this table; a plugin adds a kind with ``registry.add_input_kind(...)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterator, Mapping

from studio.spec.errors import ShapeError, StudioError
from studio.spec.shapes import BATCH, TensorShape

# dims (ints, batch first), a torch.Generator, the largest id + 1 the readers accept -> a tensor
ExampleFn = Callable[[list, Any, int], Any]


@dataclass(frozen=True)
class InputKind:
    name: str
    doc: str
    params: tuple[str, ...]  # the Input parameters that describe one sample of this kind
    shape: Callable[[Mapping[str, Any]], TensorShape]  # the Input's parameters -> the tensor it gives
    length_axis: int | None = None  # the axis whose size may vary (set by "length"; 0 = any)
    example: ExampleFn | None = None  # a stand-in sample; None: random values of the shape's dtype
    # The sample's form: how the data panel shows one, and which augmentations apply
    # ("image" or "waveform" ones); "text" and "none" are shown as rows.
    preview: str = "none"
    source: str = field(default="", compare=False)  # the module (or plugin file) that declared it


_KINDS: dict[str, InputKind] = {}


def register_input_kind(kind: InputKind, source: str = "") -> InputKind:
    """Add ``kind``. Declaring a name again is refused, unless it comes from the same
    source (a plugin file loaded again replaces its own kind)."""
    kind = replace(kind, source=source or kind.source)
    old = _KINDS.get(kind.name)
    if old is not None and old.source != kind.source:
        raise StudioError(f"input kind {kind.name!r} from {kind.source or 'unknown'} is already declared by "
                          f"{old.source or 'unknown'}")
    _KINDS[kind.name] = kind
    return kind


def unregister_input_kind(name: str) -> None:
    _KINDS.pop(name, None)


def sample_form(name: str | None) -> str:
    """The declared form (``preview``) of the input kind ``name``; "none" for a kind no
    one declared, so data of a kind whose plugin is absent still loads and shows."""
    kind = _KINDS.get(name or "")
    return kind.preview if kind is not None else "none"


def input_kind(name: str) -> InputKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise ShapeError(f"unknown input kind {name!r}; known: {', '.join(_KINDS)}") from None


class KindNames:
    """The declared kind names, read each time: the choices of the Input's ``kind``."""

    def __iter__(self) -> Iterator[str]:
        return iter(list(_KINDS))

    def __len__(self) -> int:
        return len(_KINDS)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in _KINDS

    def __getitem__(self, i):
        return list(_KINDS)[i]

    def __repr__(self) -> str:
        return repr(tuple(_KINDS))


KIND_NAMES = KindNames()


def sample_params(kind_name: str, description: Mapping[str, Any]) -> dict[str, Any]:
    """The Input parameters that describe one sample, from a dataset's description of a
    field (``{"kind": "image", "channels": 1, ...}``); {} for a kind nobody declared."""
    kind = _KINDS.get(kind_name)
    if kind is None:
        return {}
    out: dict[str, Any] = {"kind": kind_name}
    out.update({k: int(description[k]) for k in kind.params if k in description})
    return out


def _length(p) -> int | str:
    return p["length"] if p["length"] > 0 else "T"


for _kind in (
    InputKind("image", "An image [C, H, W]", ("channels", "height", "width"),
              lambda p: TensorShape.of(BATCH, p["channels"], p["height"], p["width"], axes="BCHW"),
              preview="image"),
    InputKind("sequence", "A sequence of feature vectors [T, F]", ("length", "features"),
              lambda p: TensorShape.of(BATCH, _length(p), p["features"], axes="BTF"), length_axis=1),
    InputKind("vector", "One feature vector [F]", ("features",),
              lambda p: TensorShape.of(BATCH, p["features"], axes="BF")),
    InputKind("tokens", "Token ids [T]", ("length",),
              lambda p: TensorShape.of(BATCH, _length(p), axes="BT", dtype="long"), length_axis=1,
              preview="text"),
    InputKind("waveform", "Raw audio samples [S]", ("length",),
              lambda p: TensorShape.of(BATCH, p["length"] if p["length"] > 0 else "S", axes=("B", "S")),
              length_axis=1, preview="waveform"),
    InputKind("signal", "A signal of channels over time [C, L], for 1-d convolutions", ("channels", "length"),
              lambda p: TensorShape.of(BATCH, p["channels"], _length(p), axes="BCT"), length_axis=2),
):
    register_input_kind(_kind, __name__)
