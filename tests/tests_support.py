"""Helpers shared by tests that are not fixtures."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path | None:
    """``../shared/data`` beside the project, or ``None`` when it is absent."""
    path = ROOT.parent / "shared" / "data"
    return path if path.is_dir() else None
