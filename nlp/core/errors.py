"""The library's errors: one base class, a few subclasses, messages that say what to do."""

from __future__ import annotations

__all__ = [
    "MinyiError",
    "InputError",
    "ConfigError",
    "NotFittedError",
    "NotInstalledError",
    "ReviewError",
]


class MinyiError(Exception):
    """Base class of every error Minyi raises on purpose."""


class InputError(MinyiError):
    """An input file or table cannot be read or lacks what the run needs."""


class ConfigError(MinyiError):
    """A configuration value, taxonomy or dictionary is invalid."""


class ReviewError(MinyiError, ValueError):
    """A review decision names a cluster or opinion that does not exist, or cannot be made."""


class NotFittedError(MinyiError):
    """A stage was used before ``fit`` was called."""


class NotInstalledError(MinyiError):
    """An optional dependency is missing; the message holds the install command."""

    def __init__(self, feature: str, package: str, extra: str) -> None:
        super().__init__(
            f"{feature} needs the optional package {package!r}, which is not installed. "
            f'Install it with: pip install "minyi[{extra}]"'
        )
        self.package = package
        self.extra = extra
