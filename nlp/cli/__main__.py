"""``python -m nlp.cli``: the ``minyi`` command."""

from nlp.cli import main

main()
