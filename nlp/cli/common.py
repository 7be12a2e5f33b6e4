"""What every ``minyi`` command shares: how it fails, and the secret it is given."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["EXIT_INPUT", "Column", "_fail", "_secret", "_unexpected"]

EXIT_INPUT = 2


def _fail(message: str, code: int = EXIT_INPUT) -> None:
    typer.echo(f"minyi: error: {message}", err=True)
    raise typer.Exit(code)


def _secret() -> bytes | None:
    """The secret given in ``MINYI_SECRET`` (see :mod:`nlp.core.secrets`), or ``None``: then a
    SQLite state keeps its own beside it, and a run without one uses this user's."""
    import os

    from nlp.core.secrets import parse_secret

    given = os.environ.get("MINYI_SECRET")
    return parse_secret(given) if given else None


Column = Annotated[str | None, typer.Option(show_default=False)]


def _unexpected(error: BaseException) -> None:
    """Fail on an error Minyi did not foresee: its kind and message, without what the message
    quotes (it may quote a cell), and never a traceback."""
    from nlp.io.cells import reason

    _fail(
        f"unexpected {type(error).__name__}: {reason(error)} (please report this with the command "
        "you ran and this message)",
        1,
    )
