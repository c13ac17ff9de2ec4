"""``python cli.py keys …``: the secrets a production deployment needs (README, "Running it
safely")."""

from __future__ import annotations

from typing import Annotated

import typer

from gateway.codec import new_payload_key
from settings import get_settings
from store.signing import Signer, new_signing_key

__all__ = ["keys_app"]

keys_app = typer.Typer(
    help="New secrets for REVIEWCHAIN_SIGNING_KEY and REVIEWCHAIN_PAYLOAD_KEYS.",
    no_args_is_help=True,
)


@keys_app.command("signing")
def signing() -> None:
    """Print a new audit signing key (for REVIEWCHAIN_SIGNING_KEY); its public key goes to
    standard error."""
    key = new_signing_key()
    signer = Signer.from_text(key)
    typer.echo(key)
    typer.echo(f"public key {signer.public_key} (id {signer.key_id})", err=True)


@keys_app.command("payload")
def payload(
    key_id: Annotated[str, typer.Option("--id", help="The key's id, e.g. the month it starts.")],
) -> None:
    """Print a new payload key entry ``id:base64`` (put it first in REVIEWCHAIN_PAYLOAD_KEYS
    and keep the older entries after it until no history needs them)."""
    if not key_id or ":" in key_id or "," in key_id or len(key_id) > 64:
        raise typer.BadParameter("an id of at most 64 characters without ':' or ','")
    typer.echo(new_payload_key(key_id))


@keys_app.command("public")
def public() -> None:
    """Print the public key of the configured signing key (what GET /audit/public-key says)."""
    signer = Signer.from_settings(get_settings())
    typer.echo(f"{signer.public_key}  (Ed25519, id {signer.key_id})")
