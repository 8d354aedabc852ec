"""The graph model, shapes, analysis and the project file. No Qt, no torch at import time."""
