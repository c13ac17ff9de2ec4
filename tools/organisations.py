"""``orgs``: the organisation registry (docs/rules.md §11) from a file into the service, and back.

    python cli.py orgs check examples/organisations/001_aksu_2024.yaml
    python cli.py orgs import examples/organisations/001_aksu_2024.yaml \\
        --api http://127.0.0.1:8000 --token "$TOKEN_ADMIN"
    python cli.py orgs import registry.csv --database-url sqlite:///var/reviewchain.sqlite3
    python cli.py orgs import registry.csv --dry-run --api URL --token T
    python cli.py orgs list [--kind unit] [--parent aks-akesu-hr] [--api URL --token T]

A registry file is CSV (header ``id,kind,name,region_code,region_name,parent_id,members,email``),
a JSON list or YAML (``domain.organisation_files``). ``import`` sends it to the API
(``POST /organisations/import`` as an administrator: ``--token`` or ``REVIEWCHAIN_TOKEN``) or writes
it into the store (``--database-url``, by default the one ``REVIEWCHAIN_DATABASE_URL`` names),
migrating the schema first. Either way it is all or nothing: every bad row is printed with its
line and field and nothing is imported. ``--dry-run`` prints what would change.

Exit status: 0 imported (or valid), 1 refused (a bad row, the API said no or could not be
reached), 2 wrong usage.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from domain.models import ORG_KINDS, Actor, Organisation
from domain.organisation_files import (
    SUFFIXES,
    ParsedRegistry,
    RowProblem,
    load_registry_file,
    registry_row_problems,
)
from settings import get_settings
from store.db import Store
from store.organisations import (
    RegistryRefused,
    apply_registry_change,
    list_organisations,
    plan_registry_change,
)
from tools.api_client import call, check_target

__all__ = ["orgs_app"]

orgs_app = typer.Typer(
    help="The organisation registry (CSV, JSON or YAML): check a file, import it, list it.",
    no_args_is_help=True,
)

RegistryFile = Annotated[
    Path,
    typer.Argument(
        exists=True, dir_okay=False, readable=True, help="A registry file (.csv, .json, .yaml)."
    ),
]
Api = Annotated[
    str | None, typer.Option("--api", help="The API's base URL (e.g. http://127.0.0.1:8000).")
]
Token = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="REVIEWCHAIN_TOKEN",
        help="A bearer token for --api (or REVIEWCHAIN_TOKEN).",
    ),
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url", help="Use this store instead (default: REVIEWCHAIN_DATABASE_URL)."
    ),
]

#: Who an import straight into the store is recorded as, in the registry's audit chain.
CLI_ACTOR = Actor(id="cli", role="admin", org="")
MEDIA_TYPES = {"csv": "text/csv", "json": "application/json", "yaml": "application/yaml"}


def _parsed(file: Path) -> ParsedRegistry:
    try:
        return load_registry_file(file)
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


def _refuse(file: Path, problems: Iterable[RowProblem | str]) -> None:
    listed = list(problems)
    typer.echo(f"refused: {file}: {len(listed)} problem(s); nothing imported", err=True)
    for problem in listed:
        typer.echo(f"  {problem}", err=True)
    raise typer.Exit(1)


def _summary(change: dict[str, Any], *, dry_run: bool) -> str:
    counts = {k: len(change[k]) for k in ("created", "replaced", "unchanged")}
    verb = "would create" if dry_run else "created"
    line = f"{verb} {counts['created']}, replaced {counts['replaced']}, unchanged {counts['unchanged']}"
    replaced = [f"{r['id']} ({', '.join(r['fields'])})" for r in change["replaced"]]
    return line + (f"; replaced: {'; '.join(replaced)}" if replaced else "")


def _detail(response: httpx.Response) -> list[str]:
    """The API's reasons: each of a 422's ``errors`` (problem details), else its ``detail``."""
    try:
        answer: Any = response.json()
    except ValueError:
        return [response.text[:500]]
    detail: Any = answer.get("errors") or answer.get("detail", response.text)
    if isinstance(detail, list):
        return [str(e.get("msg", e)) for e in detail]
    return [str(detail)]


def _through_api(file: Path, api: str, token: str, *, dry_run: bool) -> None:
    fmt = SUFFIXES[file.suffix.lower()]
    response = call(
        api,
        "POST",
        "/organisations/import",
        token=token,
        content=file.read_bytes(),
        params={"dry_run": "true"} if dry_run else None,
        headers={"Content-Type": MEDIA_TYPES[fmt]},
    )
    if response.status_code != 200:
        typer.echo(f"refused ({response.status_code}) by {api}:", err=True)
        _refuse(file, _detail(response))
    answer = response.json()
    problems = answer.get("problems") or []
    typer.echo(f"{file}: {_summary(answer, dry_run=dry_run)} (through {api})")
    if problems:
        _refuse(file, [p["msg"] for p in problems])


def _into_store(file: Path, parsed: ParsedRegistry, database_url: str, *, dry_run: bool) -> None:
    store = Store(database_url)
    where = repr(store)  # the URL without its password
    try:
        store.migrate()
        with store.session(readonly=dry_run) as session:
            if dry_run or parsed.problems:
                change = plan_registry_change(session, parsed.organisations)
                problems = sorted(
                    [*parsed.problems, *parsed.at_rows(change.problems)], key=lambda p: p.index
                )
                if problems:
                    _refuse(file, problems)
            else:
                try:
                    change = apply_registry_change(
                        session, parsed.organisations, actor=CLI_ACTOR, at=datetime.now(UTC)
                    )
                except RegistryRefused as err:
                    _refuse(file, parsed.at_rows(err.problems))
    finally:
        store.dispose()
    typer.echo(f"{file}: {_summary(change.summary(), dry_run=dry_run)} ({where})")


@orgs_app.command("check")
def check(file: RegistryFile) -> None:
    """Validate a registry file on its own (each row, ids once, parents in the file or
    authorities, no circle) and summarise it; parents registered elsewhere are not known here."""
    parsed = _parsed(file)
    problems = registry_row_problems(parsed, {})
    if problems:
        _refuse(file, problems)
    kinds = {kind: sum(1 for o in parsed.organisations if o.kind == kind) for kind in ORG_KINDS}
    listed = ", ".join(f"{n} {kind}" for kind, n in kinds.items() if n)
    typer.echo(f"ok: {file}: {len(parsed.organisations)} organisations ({listed})")


@orgs_app.command("import")
def import_registry(
    file: RegistryFile,
    api: Api = None,
    token: Token = None,
    database_url: DatabaseUrl = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would change; change nothing.")
    ] = False,
) -> None:
    """Import a registry file, all or nothing: through the API (--api URL --token T, an admin
    token) or into the store (--database-url)."""
    check_target(api, token, database_url)
    parsed = _parsed(file)
    if api is not None:
        _through_api(file, api, str(token), dry_run=dry_run)
    else:
        _into_store(file, parsed, database_url or get_settings().database_url, dry_run=dry_run)


def _line(org: Organisation) -> str:
    region = f"{org.region.name} {org.region.code}" if org.region else "-"
    extra = f" members {org.members}" if org.members is not None else ""
    return f"{org.id}\t{org.kind}\t{org.name}\t{region}\tparent {org.parent_id or '-'}{extra}"


@orgs_app.command("list")
def list_registry(
    kind: Annotated[str | None, typer.Option("--kind", help="Only this kind.")] = None,
    parent: Annotated[str | None, typer.Option("--parent", help="Only those below it.")] = None,
    api: Api = None,
    token: Token = None,
    database_url: DatabaseUrl = None,
) -> None:
    """List the registered organisations (tab-separated: id, kind, name, region, parent)."""
    if kind is not None and kind not in ORG_KINDS:
        raise typer.BadParameter(f"{kind!r} is not one of {', '.join(ORG_KINDS)}")
    if api is not None:
        if not token:
            raise typer.BadParameter("--api needs --token (or REVIEWCHAIN_TOKEN)")
        params = {k: v for k, v in (("kind", kind), ("parent_id", parent)) if v}
        response = call(api, "GET", "/organisations", token=token, params=params)
        if response.status_code != 200:
            typer.echo(
                f"refused ({response.status_code}): {'; '.join(_detail(response))}", err=True
            )
            raise typer.Exit(1)
        found = [Organisation.model_validate(o) for o in response.json()["items"]]
    else:
        store = Store(database_url or get_settings().database_url)
        try:
            store.migrate()
            with store.session(readonly=True) as session:
                found = list_organisations(session, kind=kind, parent_id=parent)
        finally:
            store.dispose()
    for org in found:
        typer.echo(_line(org))
