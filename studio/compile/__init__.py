"""Graph -> ``torch.nn.Module`` (and, for export, readable source)."""

from studio.compile.module import CompileError, GraphModule, compile_graph

__all__ = ["CompileError", "GraphModule", "compile_graph"]
