"""Calling the service's HTTP API from the command line (``--api URL --token T``), shared by the
commands that write either through the API or straight into a store."""

from __future__ import annotations

from typing import Any

import httpx
import typer

__all__ = ["TIMEOUT", "call", "check_target", "http_client"]

#: Seconds an API call may take.
TIMEOUT = 30.0


def http_client(base_url: str) -> httpx.Client:
    """The HTTP client ``--api`` uses."""
    return httpx.Client(base_url=base_url, timeout=TIMEOUT)


def check_target(api: str | None, token: str | None, database_url: str | None) -> None:
    """An import goes through the API (with an administrator's token) or into a store, not
    both: wrong usage is exit status 2."""
    if api is not None and database_url is not None:
        raise typer.BadParameter("give --api or --database-url, not both")
    if api is not None and not token:
        raise typer.BadParameter("--api needs --token (or REVIEWCHAIN_TOKEN): an admin token")


def call(
    api: str,
    method: str,
    path: str,
    *,
    token: str,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """One request to the API at ``api`` with ``token``'s bearer authorisation; when the API
    cannot be reached, say so and exit with status 1."""
    client = http_client(api)
    try:
        return client.request(
            method, path, headers={"Authorization": f"Bearer {token}", **(headers or {})}, **kwargs
        )
    except httpx.HTTPError as error:
        typer.echo(f"error: cannot reach the API at {api}: {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        client.close()
