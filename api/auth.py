"""Identity (docs/rules.md §14): ``Authorization: Bearer <JWT>`` (README, "Running it safely").

Two kinds of token are accepted, told apart by the algorithm in their header:

* **HS256**, signed with ``jwt_secret`` (development, and the tokens ``cli.py tokens`` mints);
  off when the secret is empty.
* **RS256 / ES256** of an identity provider (Keycloak and the like), where ``jwks_url`` is set:
  checked against the provider's published keys (fetched and cached, fetched again for a key id
  not seen yet), its issuer (``jwt_issuer``) and audience (``jwt_audience``).

Either way the claims are ``sub``, ``role``, ``org`` and ``exp``. ``exp`` is required, and a token
living longer than ``jwt_max_lifetime`` (12 h; measured from ``iat``, or from now without it) is
refused, so a leaked token is worth half a day at most. A token signed out of the console is
refused until it expires (:class:`Revocations`). No token, a bad signature, an expired, revoked
or malformed token: 401 with ``WWW-Authenticate: Bearer``; never a 500, whatever the settings.

The caller becomes a :class:`domain.models.Actor`, the same actor the workflow audits.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

import httpx
import jwt
import structlog
from fastapi import HTTPException, status
from pydantic import ValidationError

from domain.models import Actor, Role
from settings import Settings
from store.db import Store
from store.revocations import revoke, revoked_ids

__all__ = [
    "ALGORITHM",
    "ROLES",
    "Identity",
    "Revocations",
    "authenticate_token",
    "mint_token",
    "token_id",
    "unauthorized",
]

log = structlog.get_logger("api.auth")

ALGORITHM = "HS256"
#: What an identity provider's tokens may be signed with.
PROVIDER_ALGORITHMS = ("RS256", "ES256")
ROLES: tuple[str, ...] = get_args(Role)
#: Clock skew tolerated on ``exp`` and ``iat``.
LEEWAY_SECONDS = 10
#: How long the provider's key set is trusted before it is fetched again, and how soon a token
#: with an unknown key id may make it fetched again (so that garbage cannot hammer the provider).
JWKS_TTL_SECONDS = 600.0
JWKS_RETRY_SECONDS = 30.0
JWKS_TIMEOUT_SECONDS = 5.0


def unauthorized(detail: str, *, error: str | None = None) -> HTTPException:
    challenge = "Bearer" if error is None else f'Bearer error="{error}"'
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": challenge}
    )


def _invalid(detail: str) -> HTTPException:
    return unauthorized(detail, error="invalid_token")


def _check_lifetime(claims: dict[str, Any], settings: Settings) -> None:
    """``exp`` present, and no further from ``iat`` (or now) than ``jwt_max_lifetime``."""
    exp = claims.get("exp")
    if not isinstance(exp, int | float):
        raise _invalid("token without expiry (exp) / 令牌缺少有效期")
    now = time.time()
    iat = claims.get("iat")
    start = float(iat) if isinstance(iat, int | float) and iat <= now + LEEWAY_SECONDS else now
    limit = settings.jwt_max_lifetime.total_seconds()
    if float(exp) - start > limit + LEEWAY_SECONDS:
        raise _invalid(
            f"token lives longer than {limit / 3600:g} h / 令牌有效期超过 {limit / 3600:g} 小时"
        )


def _actor(claims: dict[str, Any]) -> Actor:
    if claims.get("role") not in ROLES:
        raise _invalid("unknown role in token")
    try:
        return Actor(id=claims["sub"], role=claims["role"], org=claims.get("org") or "")
    except (ValidationError, TypeError) as err:
        raise _invalid("malformed claims in token") from err


def _algorithm(token: str) -> str:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as err:
        raise _invalid("invalid token") from err
    alg = header.get("alg")
    return alg if isinstance(alg, str) else ""


def _decode(token: str, key: Any, algorithm: str, **kw: Any) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token, key, algorithms=[algorithm], leeway=LEEWAY_SECONDS, **kw
        )
    except jwt.ExpiredSignatureError as err:
        raise _invalid("token expired") from err
    except jwt.MissingRequiredClaimError as err:
        raise _invalid(f"token lacks the {err.claim} claim") from err
    except (jwt.PyJWTError, ValueError, TypeError) as err:  # also a key it cannot use
        raise _invalid("invalid token") from err
    return claims


def hs256_claims(token: str, settings: Settings) -> dict[str, Any]:
    """The claims of an HS256 token signed with ``jwt_secret``, or 401."""
    if not settings.jwt_secret:
        raise _invalid("HS256 tokens are not accepted here (no secret is configured)")
    claims = _decode(
        token,
        settings.jwt_secret,
        ALGORITHM,
        options={"require": ["sub", "role", "exp"]},
    )
    _check_lifetime(claims, settings)
    return claims


def authenticate_token(token: str, settings: Settings) -> Actor:
    """The actor an HS256 token names, or 401 (no provider keys, no revocation list: for the
    CLI and tests; requests go through :meth:`Identity.authenticate`)."""
    return _actor(hs256_claims(token, settings))


def token_id(claims: dict[str, Any], token: str) -> str:
    """What revocation names a token by: its ``jti``, else the SHA-256 of the token itself."""
    jti = claims.get("jti")
    if isinstance(jti, str) and 0 < len(jti) <= 64:
        return f"jti:{jti}"
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


class _KeySet:
    """An identity provider's published keys (JWKS), fetched when needed and cached."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._tried_at = float("-inf")
        self._lock = asyncio.Lock()

    async def key(self, kid: str | None, algorithm: str) -> Any:
        now = time.monotonic()
        key = self._find(kid, algorithm)
        stale = now - self._fetched_at > JWKS_TTL_SECONDS
        if key is None or stale:
            async with self._lock:
                if time.monotonic() - self._tried_at > JWKS_RETRY_SECONDS or stale:
                    await self._fetch()
            key = self._find(kid, algorithm)
        if key is None:
            raise _invalid("token signed with a key the identity provider does not publish")
        return key

    def _find(self, kid: str | None, algorithm: str) -> Any:
        if kid is not None:
            found = self._keys.get(kid)
        else:  # no key id: only unambiguous when the provider publishes one key for it
            fitting = [k for k in self._keys.values() if k.algorithm_name == algorithm]
            found = fitting[0] if len(fitting) == 1 else None
        if found is None or found.algorithm_name != algorithm:
            return None
        return found.key

    async def _fetch(self) -> None:
        self._tried_at = time.monotonic()
        try:
            async with httpx.AsyncClient(timeout=JWKS_TIMEOUT_SECONDS) as http:
                response = await http.get(self.url)
            response.raise_for_status()
            keys = jwt.PyJWKSet.from_dict(response.json()).keys
        except (httpx.HTTPError, ValueError, jwt.PyJWKSetError) as err:
            log.error("auth.jwks_unavailable", url=self.url, error=str(err)[:300])
            if not self._keys:
                raise HTTPException(
                    status.HTTP_503_SERVICE_UNAVAILABLE,
                    "身份提供方暂不可用 / the identity provider's keys cannot be fetched",
                ) from err
            return
        self._keys = {k.key_id or f"#{i}": k for i, k in enumerate(keys)}
        self._fetched_at = time.monotonic()


class Revocations:
    """Tokens signed out before they expire (``store.revocations``), as this process knows them:
    its own sign-outs at once, other processes' within :attr:`refresh_seconds`."""

    refresh_seconds = 2.0

    def __init__(self, store: Store) -> None:
        self._store = store
        self._stored: set[str] = set()
        #: This process's own sign-outs, until they expire (a reload never forgets them).
        self._own: dict[str, datetime] = {}
        self._loaded_at = float("-inf")
        self._lock = asyncio.Lock()

    async def contains(self, tid: str) -> bool:
        if time.monotonic() - self._loaded_at > self.refresh_seconds:
            async with self._lock:
                if time.monotonic() - self._loaded_at > self.refresh_seconds:
                    now = datetime.now(UTC)
                    self._stored = await asyncio.to_thread(self._load, now)
                    self._own = {k: v for k, v in self._own.items() if v >= now}
                    self._loaded_at = time.monotonic()
        return tid in self._own or tid in self._stored

    def _load(self, now: datetime) -> set[str]:
        with self._store.session(readonly=True) as session:
            return revoked_ids(session, now)

    async def add(self, tid: str, expires_at: datetime) -> None:
        self._own[tid] = expires_at
        now = datetime.now(UTC)

        def write() -> None:
            with self._store.session() as session:
                revoke(session, tid, expires_at=expires_at, at=now)

        await asyncio.to_thread(write)


class Identity:
    """Checks every caller's token (one per app, on ``Services``)."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.revocations = Revocations(store)
        self._keys = _KeySet(settings.jwks_url) if settings.jwks_url else None

    async def claims(self, token: str) -> dict[str, Any]:
        """The verified claims of ``token`` (HS256 or the provider's), or 401."""
        if not token or len(token) > 8192:
            raise _invalid("invalid token")
        algorithm = _algorithm(token)
        if algorithm == ALGORITHM:
            return hs256_claims(token, self.settings)
        if algorithm not in PROVIDER_ALGORITHMS or self._keys is None:
            raise _invalid(f"tokens signed with {algorithm or 'no algorithm'} are not accepted")
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError as err:
            raise _invalid("invalid token") from err
        key = await self._keys.key(kid if isinstance(kid, str) else None, algorithm)
        claims = _decode(
            token,
            key,
            algorithm,
            issuer=self.settings.jwt_issuer or None,
            audience=self.settings.jwt_audience or None,
            options={"require": ["sub", "role", "exp", "iss", "aud"]},
        )
        _check_lifetime(claims, self.settings)
        return claims

    async def authenticate(self, token: str) -> Actor:
        claims = await self.claims(token)
        actor = _actor(claims)
        if await self.revocations.contains(token_id(claims, token)):
            raise _invalid("signed out: this token was revoked / 已退出登录，令牌已失效")
        return actor

    async def revoke(self, token: str) -> None:
        """Refuse ``token`` from now until it expires (console sign-out). A token that does not
        verify any more needs nothing."""
        try:
            claims = await self.claims(token)
        except HTTPException:
            return
        expires_at = datetime.fromtimestamp(float(claims["exp"]), UTC)
        await self.revocations.add(token_id(claims, token), expires_at)


def mint_token(
    settings: Settings,
    sub: str,
    role: str,
    org: str = "",
    ttl: timedelta = timedelta(hours=8),
) -> str:
    """A signed HS256 token for local use (the CLI, tests): claims ``sub``, ``role``, ``org``,
    ``iat``, ``exp`` and a fresh ``jti`` (what sign-out revokes). ``ttl`` may not exceed
    ``jwt_max_lifetime``: such a token would be refused."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if not settings.jwt_secret:
        raise ValueError("REVIEWCHAIN_JWT_SECRET is empty: HS256 tokens cannot be minted")
    if ttl > settings.jwt_max_lifetime:
        hours = settings.jwt_max_lifetime.total_seconds() / 3600
        raise ValueError(f"a token may live at most {hours:g} h (REVIEWCHAIN_JWT_MAX_LIFETIME)")
    Actor.model_validate({"id": sub, "role": role, "org": org})  # 100-char limits
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": sub,
        "role": role,
        "org": org,
        "iat": now,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM)
