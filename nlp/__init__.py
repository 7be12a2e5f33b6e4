"""Minyi (民意): turn citizens' opinion fragments into classified, clustered issues and drafts."""

__version__ = "0.1.0"

from .config import PipelineConfig
from .errors import ConfigError, InputError, MinyiError, NotFittedError, NotInstalledError
from .io.columns import Columns
from .io.readers import InputTable, read_table
from .pipeline import OUTPUT_COLUMNS, Pipeline, RunResult

__all__ = [
    "Columns",
    "ConfigError",
    "InputError",
    "InputTable",
    "MinyiError",
    "NotFittedError",
    "NotInstalledError",
    "OUTPUT_COLUMNS",
    "Pipeline",
    "PipelineConfig",
    "RunResult",
    "__version__",
    "read_table",
]
