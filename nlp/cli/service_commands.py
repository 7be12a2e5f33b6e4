"""The service's keys and audit log on the command line: ``minyi keys …`` and ``minyi audit``.

The service is imported only when one of these commands runs, so the rest of ``minyi`` works
without the ``service`` extra.
"""

from __future__ import annotations

from typing import Annotated

import typer

from nlp.core.errors import MinyiError

__all__ = ["register"]


def _fail(message: str) -> None:
    typer.echo(f"minyi: error: {message}", err=True)
    raise typer.Exit(2)  # as every other command's error


keys_app = typer.Typer(
    help="API keys of the HTTP service, with names and scopes.", no_args_is_help=True
)

_SERVICE_STATE = (
    "The service's database (folder, .sqlite file or URL); default: MINYI_DATABASE_URL or the "
    "service's default. Example: --state sqlite:///srv/minyi.sqlite"
)
StateOption = Annotated[
    str | None, typer.Option("--state", help=_SERVICE_STATE, show_default=False)
]


def _service_database(state: str | None):
    try:
        from service.db import open_database
        from service.settings import Settings
    except ImportError as e:
        from nlp.core.errors import NotInstalledError

        _fail(str(NotInstalledError("minyi keys", "fastapi", "service")) + f" ({e})")
    try:
        return open_database(state or Settings().database)
    except MinyiError as e:
        _fail(str(e))


@keys_app.command("add")
def keys_add(
    name: Annotated[str, typer.Argument(help="Who holds the key. Example: intake-desk")],
    scope: Annotated[
        str, typer.Option(help="read, write or admin. Example: --scope write")
    ] = "read",
    state: StateOption = None,
) -> None:
    """Make a key; it is printed once, on the last line, and stored hashed.

    Example: minyi keys add intake-desk --scope write
    """
    from service.keys import KeyStoreError, add_key

    try:
        key = add_key(_service_database(state), name, scope)
    except KeyStoreError as e:
        _fail(str(e))
    typer.echo(f"key {name!r} ({scope}) made; it is not shown again:", err=True)
    typer.echo(key)


@keys_app.command("list")
def keys_list(state: StateOption = None) -> None:
    """The keys' names, scopes and dates (never the keys).

    Example: minyi keys list
    """
    from service.keys import list_keys

    for row in list_keys(_service_database(state)):
        revoked = f"  revoked {row['revoked_at']}" if row["revoked_at"] else ""
        typer.echo(f"{row['name']}\t{row['scope']}\t{row['created_at']}{revoked}")


@keys_app.command("revoke")
def keys_revoke(
    name: Annotated[str, typer.Argument(help="The key's name.")], state: StateOption = None
) -> None:
    """Revoke a key; the service refuses it within a few seconds.

    Example: minyi keys revoke intake-desk
    """
    from service.keys import KeyStoreError, revoke_key

    try:
        revoke_key(_service_database(state), name)
    except KeyStoreError as e:
        _fail(str(e))
    typer.echo(f"key {name!r} revoked")


def audit_log(
    state: StateOption = None,
    who: Annotated[str | None, typer.Option(help="Only this key's (or reviewer's) name.")] = None,
    limit: Annotated[int, typer.Option(help="Most lines. Example: --limit 50")] = 100,
) -> None:
    """Who did what, when: the service's writes and batches, and review decisions; newest first.

    Example: minyi audit --state sqlite:///srv/minyi.sqlite --who intake-desk
    """
    from service.audit import read_audit

    for row in read_audit(_service_database(state), who=who, limit=limit):
        typer.echo("\t".join(row[k] for k in ("at", "who", "action", "target", "detail")))


def register(app: typer.Typer) -> None:
    """Add ``keys`` and ``audit`` to the ``minyi`` command."""
    app.add_typer(keys_app, name="keys")
    app.command("audit")(audit_log)
