"""Money as users read it (``¥12,000``): ``core.money``, where the notices of core use it too."""

from __future__ import annotations

from core.money import format_yuan

__all__ = ["format_yuan"]
