"""What a run writes for people: tables, workbooks, the report, charts, Word drafts, widgets."""

from nlp.outputs.writers import write_outputs

__all__ = ["write_outputs"]
