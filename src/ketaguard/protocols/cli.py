"""`ketaguard protocols`: check a clinic's protocol file before it is loaded."""

from pathlib import Path
from typing import Annotated

import typer

from ketaguard.kit.cli import console_transaction
from ketaguard.protocols.definition import ProtocolDefinition, iter_cited
from ketaguard.protocols.loader import ProtocolErrors, load_protocol_file
from ketaguard.protocols.models import BUILTIN_OWNER
from ketaguard.protocols.service import (
    current_versions,
    definition_of,
    find_any_version,
    organisation_versions,
)

INVALID = 1

protocols_app = typer.Typer(help="Treatment protocol definitions.", no_args_is_help=True)


@protocols_app.callback()
def protocols() -> None:
    """Treatment protocol definitions."""


@protocols_app.command("check")
def check(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, help="A protocol file, .toml or .json by its extension."
        ),
    ],
) -> None:
    """Validate a protocol file and print every problem in it, one per line."""
    try:
        definition = load_protocol_file(file)
    except ProtocolErrors as exc:
        # Plain echo, not Rich: sources like "[S19]" would be read as markup.
        for error in exc.errors:
            typer.echo(f"{file}: {error}")
        raise typer.Exit(INVALID) from None
    typer.echo(f"{file}: valid ({definition.id} v{definition.version})")


def describe(definition: ProtocolDefinition) -> list[str]:
    """Every sourced number of a protocol, one per line, marked where it needs local review."""
    lines = [
        f"{definition.id} v{definition.version}: {definition.title}",
        f"drug {definition.drug}, route {definition.route}, "
        f"home use {'allowed' if definition.home_use_allowed else 'never'}, "
        f"REMS {'required' if definition.rems_required else 'not required'}",
    ]
    for path, item in iter_cited(definition):
        value = getattr(item, "value", None)
        shown = f" = {value}" if value is not None else f": {getattr(item, 'what', '')}"
        review = "  (default, review locally)" if item.review_locally else ""
        lines.append(f"  {path}{shown}  {item.source}{review}")
    lines.extend(f"  note: {note}" for note in definition.notes)
    return lines


@protocols_app.command("list")
def list_protocols() -> None:
    """List the newest version of every protocol: built-in and the clinics' own."""
    with console_transaction() as db:
        for version in current_versions(db, None) + organisation_versions(db):
            owner = "built-in" if version.owner == BUILTIN_OWNER else "clinic"
            typer.echo(f"{version.protocol_key}  v{version.version}  {owner}  {version.title}")


@protocols_app.command("show")
def show(
    protocol_id: Annotated[str, typer.Argument(help="e.g. esketamine-trd")],
    version: Annotated[int | None, typer.Option(help="A past version; newest by default")] = None,
) -> None:
    """Print a protocol with the source of every number."""
    with console_transaction() as db:
        stored = find_any_version(db, protocol_id, version)
        lines = describe(definition_of(stored))
    for line in lines:
        typer.echo(line)
