"""``campaigns``: campaign files (one notice each, JSON or YAML in the shape of
:class:`domain.models.Campaign`; see ``examples/campaigns/``) into the service.

    python cli.py campaigns check examples/campaigns/001_aksu_2024.yaml
    python cli.py campaigns import examples/campaigns/001_aksu_2024.yaml \\
        --api http://127.0.0.1:8000 --token "$ADMIN_TOKEN"
    python cli.py campaigns import examples/campaigns/001_aksu_2024.yaml \\
        --database-url sqlite:///var/reviewchain.sqlite3

Every file is validated at the edge first (:func:`domain.campaign_files.load_campaign_file`:
the model's rules and the consistency checks of :mod:`domain.campaign_checks`). ``import`` then
either posts it to the API (``POST /campaigns``, as an administrator: ``--token`` or
``REVIEWCHAIN_TOKEN``), or writes it into the store directly (``--database-url``, by default the
one ``REVIEWCHAIN_DATABASE_URL`` names), migrating the schema first as the worker and the API do.
Either way the bodies the campaign names must be registered first (``python cli.py orgs import``,
docs/rules.md §11). A campaign id that exists already is refused either way; nothing is
overwritten.

Exit status: 0 imported (or valid), 1 refused (invalid file, existing id, the API said no or
could not be reached), 2 wrong usage.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from domain.campaign_files import load_campaign_file
from domain.models import Campaign
from domain.registry_bindings import campaign_registry_problems, deprecated_fields, named_orgs
from settings import get_settings
from store.campaigns import add_campaign
from store.db import Store
from store.organisations import registry
from tools.api_client import call, check_target

__all__ = ["campaigns_app"]

campaigns_app = typer.Typer(
    help="Campaign files (one notice each, JSON or YAML): check them, import them.",
    no_args_is_help=True,
)

CampaignFile = Annotated[
    Path,
    typer.Argument(
        exists=True, dir_okay=False, readable=True, help="A campaign file (.json, .yaml, .yml)."
    ),
]


def _load(file: Path) -> Campaign:
    try:
        return load_campaign_file(file)
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


def _detail(response: httpx.Response) -> str:
    try:
        answer: Any = response.json()
    except ValueError:
        return response.text[:500]
    detail: Any = answer.get("errors") or answer.get("detail", response.text)
    if isinstance(detail, list):  # 422: one line per field at fault
        return "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body')}: {e.get('msg', '')}"
            for e in detail
        )
    return str(detail)


def _through_api(campaign: Campaign, api: str, token: str) -> None:
    response = call(api, "POST", "/campaigns", token=token, json=campaign.model_dump(mode="json"))
    if response.status_code == 201:
        for warning in response.json().get("warnings") or []:
            typer.echo(f"warning: {warning}", err=True)
        typer.echo(f"imported campaign {campaign.id} through {api}")
        return
    typer.echo(
        f"refused ({response.status_code}): campaign {campaign.id}: {_detail(response)}", err=True
    )
    raise typer.Exit(1)


def _into_store(campaign: Campaign, database_url: str) -> None:
    """As ``POST /campaigns`` would: the bodies it names must be registered in this store
    (``orgs import`` first), and the fields the registry replaced are ignored with a warning."""
    store = Store(database_url)
    where = repr(store)  # the URL without its password
    try:
        store.migrate()
        with store.session() as session:
            named = registry(session, {n.org_id for n in named_orgs(campaign)})
            problems = campaign_registry_problems(campaign, named)
            if problems:
                listed = "; ".join(str(p) for p in problems)
                typer.echo(f"refused: campaign {campaign.id}: {listed}", err=True)
                raise typer.Exit(1)
            for warning in deprecated_fields(campaign):
                typer.echo(f"warning: {warning}", err=True)
            stored = campaign.model_copy(update={"authority_levels": [], "committee_members": None})
            added = add_campaign(session, stored, at=datetime.now(UTC))
    finally:
        store.dispose()
    if not added:
        typer.echo(f"refused: campaign {campaign.id} exists already (nothing changed)", err=True)
        raise typer.Exit(1)
    typer.echo(f"imported campaign {campaign.id} into {where}")


@campaigns_app.command("check")
def check(file: CampaignFile) -> None:
    """Validate a campaign file as the service would, and summarise it."""
    campaign = _load(file)
    levels = ", ".join(f"{lvl} {campaign.fees[lvl]} 元" for lvl in campaign.levels)
    typer.echo(
        f"ok: {campaign.id} ({campaign.year}, {campaign.series}): {levels}; declarations "
        f"{campaign.declaration_opens_at.isoformat()} to {campaign.declaration_closes_at.isoformat()}"
    )


@campaigns_app.command("import")
def import_campaign(
    file: CampaignFile,
    api: Annotated[
        str | None,
        typer.Option("--api", help="The API's base URL (e.g. http://127.0.0.1:8000)."),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="REVIEWCHAIN_TOKEN",
            help="An administrator's bearer token for --api (or REVIEWCHAIN_TOKEN).",
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="Write into this store instead (default: REVIEWCHAIN_DATABASE_URL).",
        ),
    ] = None,
) -> None:
    """Import one campaign file: through the API (--api URL --token T) or into the store
    (--database-url); an existing campaign id is refused."""
    check_target(api, token, database_url)
    campaign = _load(file)
    if api is not None:
        _through_api(campaign, api, str(token))
    else:
        _into_store(campaign, database_url or get_settings().database_url)
