"""Money as users read it (``core.money``, where notices written by core find it too)."""

from __future__ import annotations

from core.money import format_yuan

__all__ = ["format_yuan"]
