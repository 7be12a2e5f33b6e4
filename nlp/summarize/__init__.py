"""Key sentences, suggestion extraction and draft 代表建议 (not built yet: see the drafting issue)."""

__all__: list[str] = []
