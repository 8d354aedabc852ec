"""Errors raised by exporters and importers; each message names the file, node or field."""

from __future__ import annotations

from studio.core.errors import StudioError


class ExportError(StudioError):
    """An export that could not be made or did not pass its check; nothing was written."""


class ImportModelError(StudioError):
    """A model file that cannot be imported (malformed, hostile or with unmapped operators)."""
