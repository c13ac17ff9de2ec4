"""Command-line tools (typer). One app with a sub-app per concern (``audit``, ``tokens``,
``demo``, ``campaigns``, ``orgs``, ``db``); others are added beside them with
``app.add_typer(…, name=…)``.

    python cli.py audit verify --declaration D-1
    python cli.py audit verify --campaign aks-2024-transport
    python cli.py audit export --campaign aks-2024-transport --format csv --out trail.csv
    python cli.py audit dossier --declaration D-1 --out dossier.json
    python cli.py audit dossier --declaration D-1 --files --out dossier.zip   # with the materials
    python cli.py materials sweep [--grace-hours 24] [--dry-run]
    python cli.py materials samples DIR         # sample.pdf and photo.jpg to upload by hand
    python cli.py tokens mint --role committee [--sub ID] [--org ORG] [--ttl-hours 12]
    eval "$(python cli.py tokens demo)"       # export TOKEN_APPLICANT=… one per demo role
    python cli.py demo load [--api http://127.0.0.1:8000]
    python cli.py campaigns import examples/campaigns/001_aksu_2024.yaml --api URL --token T
    python cli.py orgs import examples/organisations/001_aksu_2024.yaml --api URL --token T
    python cli.py orgs list [--kind unit] [--parent ORG]
    python cli.py db current | upgrade [REVISION] | downgrade [REVISION] | check
    python cli.py db migrate --service-role reviewchain_app
    python cli.py keys signing | payload --id 2025-01 | public

The database is the one ``REVIEWCHAIN_DATABASE_URL`` names (``settings.Settings``); the audit
commands only read it. Tokens are signed with ``REVIEWCHAIN_JWT_SECRET``: the API must run with
the same secret to accept them. ``demo load`` goes through the HTTP API only (``tools/demo/``).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.auth import ROLES, mint_token
from settings import get_settings
from store.audit import ChainReport, check_chains, count_chains
from store.db import Store
from store.dossier import DossierNotFound, build_dossier, dossier_json
from store.export import export_trail
from store.materials.dossier import write_bundle
from store.materials.objects import open_objects
from store.materials.records import referenced_hashes, sweep_orphans
from tools.campaigns import campaigns_app
from tools.db import db_app
from tools.keys import keys_app
from tools.organisations import orgs_app
from tools.samples import write_samples

if TYPE_CHECKING:
    from tools.demo import DemoReport

app = typer.Typer(help="Review Chain tools.", no_args_is_help=True)
audit_app = typer.Typer(
    help="The audit trail (谁审查，谁负责): verify its hash chains, export it, build a dossier.",
    no_args_is_help=True,
)
app.add_typer(audit_app, name="audit")
tokens_app = typer.Typer(
    help="Bearer tokens for local use (HS256, signed with REVIEWCHAIN_JWT_SECRET).",
    no_args_is_help=True,
)
app.add_typer(tokens_app, name="tokens")
demo_app = typer.Typer(
    help="A demo campaign on a running system (python3 dev.py run), through the HTTP API.",
    no_args_is_help=True,
)
app.add_typer(demo_app, name="demo")
app.add_typer(campaigns_app, name="campaigns")
app.add_typer(orgs_app, name="orgs")
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")

#: The progress bar goes to standard error, so that standard output stays the result.
err = Console(stderr=True)

Declaration = Annotated[
    str | None, typer.Option("--declaration", "-d", help="One declaration's id.")
]
Campaign = Annotated[str | None, typer.Option("--campaign", "-c", help="A campaign's id.")]
Out = Annotated[
    Path | None, typer.Option("--out", "-o", help="Write here instead of standard output.")
]


class Format(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


def open_store() -> Store:
    """The store of the process's settings (``REVIEWCHAIN_DATABASE_URL``)."""
    return Store.from_settings(get_settings())


def _one_scope(declaration: str | None, campaign: str | None) -> None:
    if (declaration is None) == (campaign is None):
        raise typer.BadParameter("give exactly one of --declaration and --campaign")


def _verify_campaign(store: Store, campaign: str, show_progress: bool) -> ChainReport:
    with store.session(readonly=True) as session:
        if not show_progress:
            return check_chains(session, campaign_id=campaign)
        total = count_chains(session, campaign_id=campaign)
        columns = (
            TextColumn("verifying {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("declarations"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=err, transient=True) as progress:
            task = progress.add_task(campaign, total=total)
            return check_chains(
                session,
                campaign_id=campaign,
                progress=lambda _declaration, _events: progress.advance(task),
            )


@audit_app.command("verify")
def verify(
    declaration: Declaration = None,
    campaign: Campaign = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON (GET /audit/verify).")
    ] = False,
    show_progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Show a progress bar (campaign).")
    ] = True,
) -> None:
    """Recompute every hash and link of one declaration's chain or of a whole campaign.

    Exit status 0 when every chain holds, 1 when one is broken or nothing was found."""
    _one_scope(declaration, campaign)
    store = open_store()
    try:
        if campaign is not None:
            report = _verify_campaign(store, campaign, show_progress)
        else:
            with store.session(readonly=True) as session:
                report = check_chains(session, declaration_id=declaration)
    finally:
        store.dispose()
    scope = f"campaign {campaign}" if campaign is not None else f"declaration {declaration}"
    if as_json:
        typer.echo(report.model_dump_json())
    elif report.ok and report.chains:
        chains = f" in {report.chains} chains" if campaign is not None else ""
        typer.echo(f"ok: {report.checked} events{chains} of {scope}; every hash and link holds")
    elif report.ok:
        typer.echo(f"nothing to verify: no audit event of {scope}")
    else:
        typer.echo(
            f"BROKEN: declaration {report.first_bad_declaration_id}, first bad seq "
            f"{report.first_bad_seq}: {report.problem} "
            f"({report.checked} events verified before it)"
        )
    raise typer.Exit(0 if report.ok and report.chains else 1)


@audit_app.command("export")
def export(
    declaration: Declaration = None,
    campaign: Campaign = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="csv or jsonl.")] = Format.csv,
    out: Out = None,
) -> None:
    """Write a declaration's or a campaign's trail as CSV or JSON lines (docs/rules.md §18)."""
    _one_scope(declaration, campaign)
    store = open_store()
    chunks = export_trail(
        store, format=format.value, declaration_id=declaration, campaign_id=campaign
    )
    try:
        if out is None:
            for chunk in chunks:
                sys.stdout.write(chunk)
            sys.stdout.flush()
        else:
            with out.open("w", encoding="utf-8", newline="") as handle:
                for chunk in chunks:
                    handle.write(chunk)
            typer.echo(f"wrote {out}", err=True)
    finally:
        store.dispose()


@audit_app.command("dossier")
def dossier(
    declaration: Annotated[str, typer.Option("--declaration", "-d", help="The declaration's id.")],
    out: Out = None,
    files: Annotated[
        bool, typer.Option("--files", help="Write a zip with the uploaded materials' files too.")
    ] = False,
) -> None:
    """Build one declaration's dossier (timeline, decisions, deadlines, calendar, chain proof,
    the materials' metadata and hashes); check it offline with
    ``python -m store.dossier_verify FILE``. With ``--files``, a zip holding the dossier and
    every material's bytes (``--out`` required)."""
    if files and out is None:
        typer.echo("error: --files writes a zip: name it with --out", err=True)
        raise typer.Exit(1)
    store = open_store()
    try:
        with store.session(readonly=True) as session:
            document = build_dossier(session, declaration)
    except DossierNotFound as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        store.dispose()
    proof = document["proof"]
    summary = (
        f"{proof['event_count']} events, head {proof['head_hash']}, "
        f"store check {'ok' if proof['store_check']['ok'] else 'BROKEN'}"
    )
    if files:
        assert out is not None
        with out.open("wb") as handle:
            count = write_bundle(document, open_objects(get_settings()), handle)
        typer.echo(f"wrote {out}: {summary}; {count} material files", err=True)
        return
    text = dossier_json(document)
    if out is None:
        sys.stdout.write(text)
        return
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {out}: {summary}", err=True)


# --------------------------------------------------------------------------- materials

materials_app = typer.Typer(
    help="Uploaded materials (docs/rules.md §19): housekeeping of the object store.",
    no_args_is_help=True,
)
app.add_typer(materials_app, name="materials")


@materials_app.command("samples")
def samples(
    directory: Annotated[Path, typer.Argument(help="Where to write sample.pdf and photo.jpg.")],
) -> None:
    """Write a sample PDF and a sample photo to upload by hand (README walk-through)."""
    for path in write_samples(directory):
        typer.echo(f"wrote {path}")


@materials_app.command("sweep")
def sweep(
    grace_hours: Annotated[
        float, typer.Option("--grace-hours", min=1, help="Keep objects younger than this.")
    ] = 24,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List, remove nothing.")] = False,
) -> None:
    """Remove objects no material names (an upload whose database write failed after its file
    was stored) and spool files of uploads that never finished, older than the grace period."""
    settings = get_settings()
    store = open_store()
    objects = open_objects(settings)

    def referenced(hashes: Iterable[str]) -> set[str]:
        with store.session(readonly=True) as session:
            return referenced_hashes(session, hashes)

    try:
        swept = sweep_orphans(
            referenced,
            objects,
            now=datetime.now(UTC),
            grace=timedelta(hours=grace_hours),
            dry_run=dry_run,
        )
    finally:
        store.dispose()
    verb = "would remove" if dry_run else "removed"
    for sha in swept.orphans:
        typer.echo(f"{verb} orphan {sha}")
    typer.echo(
        f"{objects.name}: {verb} {len(swept.orphans)} orphaned objects and {swept.spools} "
        "unfinished uploads",
        err=True,
    )


# --------------------------------------------------------------------------- tokens

TtlHours = Annotated[
    float,
    typer.Option(
        "--ttl-hours",
        min=0.01,
        help="Hours until the token expires (at most REVIEWCHAIN_JWT_MAX_LIFETIME, 12 h).",
    ),
]

#: Organisation-scoped roles (docs/rules.md §11): without ``--org`` their token can decide
#: nothing (a committee or finance token without one acts only on campaigns made before the
#: registry).
SCOPED_ROLES = ("unit_reviewer", "authority_reviewer", "committee", "finance")


def _ttl(hours: float) -> timedelta:
    """A token's lifetime; every token expires, within the service's maximum lifetime."""
    ttl = timedelta(hours=hours)
    limit = get_settings().jwt_max_lifetime
    if ttl > limit:
        raise typer.BadParameter(
            f"at most {limit.total_seconds() / 3600:g} hours (REVIEWCHAIN_JWT_MAX_LIFETIME): "
            "the service refuses tokens that live longer",
            param_hint="--ttl-hours",
        )
    return ttl


def _role(value: str) -> str:
    if value not in ROLES:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(ROLES)}")
    return value


@tokens_app.command("mint")
def tokens_mint(
    role: Annotated[
        str,
        typer.Option("--role", "-r", callback=_role, help=f"One of {', '.join(ROLES)}."),
    ],
    sub: Annotated[
        str | None, typer.Option("--sub", help="The user id (claim sub); default local-ROLE.")
    ] = None,
    org: Annotated[
        str,
        typer.Option(
            "--org",
            help="The organisation it acts for (a registered unit, authority, committee or "
            "finance office).",
        ),
    ] = "",
    ttl_hours: TtlHours = 12.0,
) -> None:
    """Print one signed token (claims sub, role, org, exp)."""
    if role in SCOPED_ROLES and not org:
        typer.echo(f"warning: a {role} token without --org may decide nothing", err=True)
    try:
        token = mint_token(get_settings(), sub or f"local-{role}", role, org, ttl=_ttl(ttl_hours))
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    typer.echo(token)


@tokens_app.command("demo")
def tokens_demo(ttl_hours: TtlHours = 12.0) -> None:
    """Print one token per role of the demo organisations as shell export lines
    (TOKEN_APPLICANT, TOKEN_UNIT_REVIEWER, TOKEN_AUTHORITY_REVIEWER_<LEVEL>…, TOKEN_COMMITTEE,
    TOKEN_FINANCE, TOKEN_AUDITOR, TOKEN_ADMIN): eval "$(python cli.py tokens demo)"."""
    from tools.demo import token_exports  # the demo lives in the source tree, not the package

    sys.stdout.write(token_exports(get_settings(), ttl=_ttl(ttl_hours)))


# --------------------------------------------------------------------------- demo

#: Seconds ``demo load`` waits for ``GET /readyz`` by default.
DEMO_READY_SECONDS = 60.0


@demo_app.command("load")
def demo_load(
    api: Annotated[
        str, typer.Option("--api", help="The API's base URL.")
    ] = "http://127.0.0.1:8000",
    wait: Annotated[
        float, typer.Option("--wait", min=0, help="Seconds to wait for GET /readyz.")
    ] = DEMO_READY_SECONDS,
) -> None:
    """Load the demo campaign (notice 001, its window shifted to be open now) and a dozen
    declarations in the states reachable without waiting, all through the HTTP API. Run twice,
    it reports what exists and loads nothing twice. Exit status 1 when the API is not ready or
    a declaration did not end where planned."""
    from tools.demo import DemoError, load_demo

    async def run() -> DemoReport:
        async with httpx.AsyncClient(base_url=api, timeout=60.0) as http:
            return await load_demo(http, get_settings(), say=typer.echo, ready_timeout=wait)

    try:
        report = asyncio.run(run())
    except DemoError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    raise typer.Exit(1 if report.mismatched else 0)


if __name__ == "__main__":
    app()
