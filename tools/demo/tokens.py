"""The demo people's tokens as shell exports: ``eval "$(python cli.py tokens demo)"``."""

from __future__ import annotations

import shlex
from datetime import timedelta

from api.auth import mint_token
from settings import Settings
from tools.demo.data import demo_actors
from tools.demo.report import duration

__all__ = ["token_exports"]


def token_exports(settings: Settings, ttl: timedelta = timedelta(hours=12)) -> str:
    """Shell ``export`` lines, one token per demo actor, for ``eval "$(python cli.py tokens
    demo)"``; each preceded by a comment naming the person."""
    expiry = f"expire in {duration(ttl)}"
    lines = [f"# Review Chain demo tokens (HS256, REVIEWCHAIN_JWT_SECRET); they {expiry}."]
    for name, actor in demo_actors().items():
        token = mint_token(settings, actor.id, actor.role, actor.org, ttl=ttl)
        org = f", org {actor.org}" if actor.org else ""
        lines.append(f"# {actor.role}: sub {actor.id}{org}")
        lines.append(f"export {name}={shlex.quote(token)}")
    return "\n".join(lines) + "\n"
