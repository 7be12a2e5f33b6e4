"""The batch pipeline: read rows → normalise → mask → segment → classify → encode → dedupe →
cluster → draft."""

from nlp.pipeline.pipeline import OUTPUT_COLUMNS, STAGES, Pipeline, RunResult

__all__ = ["OUTPUT_COLUMNS", "Pipeline", "RunResult", "STAGES"]
