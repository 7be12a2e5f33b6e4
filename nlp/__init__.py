"""Minyi (民意): turn citizens' opinion fragments into classified, clustered issues and drafts."""

from nlp.core.config import PipelineConfig
from nlp.core.errors import ConfigError, InputError, MinyiError, NotFittedError, NotInstalledError
from nlp.core.version import __version__
from nlp.io.columns import Columns
from nlp.io.readers import InputTable, read_table
from nlp.pipeline import OUTPUT_COLUMNS, Pipeline, RunResult

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
