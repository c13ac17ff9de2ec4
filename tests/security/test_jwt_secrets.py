"""Finding 3, JWT secrets: the public development secret and secrets like ``a`` or
``changeme`` started without a word; an empty one gave 500 on every request; tokens without
``exp`` lived forever; sign-out did not revoke.

Now: production refuses to start on a weak or default secret (at start, naming it); an empty
secret never gives 500; ``exp`` is required and a lifetime over ``REVIEWCHAIN_JWT_MAX_LIFETIME``
is refused; RS256/ES256 tokens of an identity provider are checked against its JWKS (served
here by the test itself), issuer and audience; the console's sign-out revokes the token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import FastAPI
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from api.auth import mint_token
from settings import DEV_JWT_SECRET, Settings, UnsafeSettings, check_startup
from testing.api import AUDITOR
from tests.console.helpers import Console
from tests.security.conftest import STRONG_SECRET, client_of

VERIFY = "/audit/verify"
PARAMS = {"declaration_id": "D-none"}
ISSUER = "https://id.example.test/realms/review"
AUDIENCE = "review-chain"

PRODUCTION_KEYS = {
    "payload_keys": "k1:" + "A" * 43 + "=",
    "signing_key": "B" * 43 + "=",
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def hs256(claims: dict[str, Any], secret: str = DEV_JWT_SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def hmac_by_hand(claims: dict[str, Any], key: bytes) -> str:
    """An HS256 token under any key (PyJWT refuses a PEM as an HMAC secret; an attacker
    would not)."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = part(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}).encode())
    body = part(json.dumps(claims).encode())
    signature = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{part(signature)}"


# --------------------------------------------------------------------------- start-up


@pytest.mark.parametrize(
    "secret", [DEV_JWT_SECRET, "a", "changeme", "x" * 31], ids=["dev", "a", "changeme", "31B"]
)
def test_production_refuses_to_start_on_a_weak_or_default_secret(
    make_bare_app: Callable[..., FastAPI], secret: str
) -> None:
    with pytest.raises(UnsafeSettings, match="REVIEWCHAIN_JWT_SECRET"):
        make_bare_app(env="production", jwt_secret=secret, **PRODUCTION_KEYS)


def test_production_starts_on_a_strong_secret_and_development_warns(
    make_bare_app: Callable[..., FastAPI],
) -> None:
    make_bare_app(env="production", jwt_secret=STRONG_SECRET, **PRODUCTION_KEYS)
    warned = check_startup(Settings(jwt_secret="changeme"))
    assert any("8 bytes" in w for w in warned)
    assert any("public development secret" in w for w in check_startup(Settings()))


def test_an_empty_secret_without_an_identity_provider_refuses_to_start(
    make_bare_app: Callable[..., FastAPI],
) -> None:
    with pytest.raises(UnsafeSettings, match="no token could ever be checked"):
        make_bare_app(jwt_secret="")


async def test_an_empty_secret_never_gives_500(make_bare_app: Callable[..., FastAPI]) -> None:
    """With only an identity provider configured, HS256 is off: such tokens are 401."""
    app = make_bare_app(
        jwt_secret="", jwks_url="http://127.0.0.1:9/jwks", jwt_issuer=ISSUER, jwt_audience=AUDIENCE
    )
    exp = datetime.now(UTC) + timedelta(hours=1)
    async with client_of(app) as http:
        for secret in (b"", b"x", DEV_JWT_SECRET.encode()):
            claims = {"sub": "a", "role": "auditor", "exp": int(exp.timestamp())}
            token = hmac_by_hand(claims, secret)
            answer = await http.get(VERIFY, params=PARAMS, headers=bearer(token))
            assert answer.status_code == 401, answer.text


# --------------------------------------------------------------------------- expiry


async def test_a_token_without_exp_or_living_too_long_is_refused(
    bare_http: httpx.AsyncClient,
) -> None:
    now = datetime.now(UTC)
    claims = {"sub": "auditor-1", "role": "auditor", "org": ""}
    cases = {
        "no exp": hs256(claims),
        "13 h": hs256({**claims, "exp": now + timedelta(hours=13)}),
        "13 h from iat": hs256(
            {**claims, "iat": now - timedelta(hours=2), "exp": now + timedelta(hours=11)}
        ),
    }
    for name, token in cases.items():
        answer = await bare_http.get(VERIFY, params=PARAMS, headers=bearer(token))
        assert answer.status_code == 401, (name, answer.text)
    good = hs256({**claims, "iat": now, "exp": now + timedelta(hours=12)})
    assert (await bare_http.get(VERIFY, params=PARAMS, headers=bearer(good))).status_code == 200
    with pytest.raises(ValueError, match="at most 12 h"):
        mint_token(Settings(), "a", "auditor", ttl=timedelta(hours=13))


async def test_the_maximum_lifetime_is_a_setting(make_bare_app: Callable[..., FastAPI]) -> None:
    app = make_bare_app(jwt_max_lifetime=3600)
    token = mint_token(Settings(), "auditor-1", "auditor", ttl=timedelta(hours=2))
    async with client_of(app) as http:
        answer = await http.get(VERIFY, params=PARAMS, headers=bearer(token))
    assert answer.status_code == 401 and "longer than 1 h" in answer.text


# --------------------------------------------------------------------------- JWKS


class Provider:
    """An identity provider's key set, served over HTTP on 127.0.0.1 by the test itself."""

    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        rsa_jwk = json.loads(RSAAlgorithm.to_jwk(self.rsa.public_key()))
        ec_jwk = json.loads(ECAlgorithm.to_jwk(self.ec.public_key()))
        self.jwks = {
            "keys": [
                {**rsa_jwk, "kid": "rsa-1", "alg": "RS256", "use": "sig"},
                {**ec_jwk, "kid": "ec-1", "alg": "ES256", "use": "sig"},
            ]
        }
        self.fetches = 0
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/realms/review/certs"

    def token(
        self, alg: str = "RS256", kid: str | None = None, key: Any = None, **claims: Any
    ) -> str:
        now = datetime.now(UTC)
        body = {
            "sub": "auditor-7",
            "role": "auditor",
            "org": "",
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + timedelta(minutes=30),
            **claims,
        }
        body = {k: v for k, v in body.items() if v is not None}
        signer = key or (self.rsa if alg == "RS256" else self.ec)
        headers = {"kid": kid or ("rsa-1" if alg == "RS256" else "ec-1")}
        return jwt.encode(body, signer, algorithm=alg, headers=headers)


@pytest.fixture
def provider() -> Iterator[Provider]:
    idp = Provider()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            idp.fetches += 1
            body = json.dumps(idp.jwks).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    idp.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=idp.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield idp
    finally:
        idp.server.shutdown()
        idp.server.server_close()


async def test_identity_provider_tokens_are_checked_against_its_jwks(
    make_bare_app: Callable[..., FastAPI], provider: Provider
) -> None:
    app = make_bare_app(
        jwt_secret=STRONG_SECRET,
        jwks_url=provider.url,
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
    )
    public_pem = provider.rsa.public_key().public_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    )
    async with client_of(app) as http:

        async def status(token: str) -> int:
            answer = await http.get(VERIFY, params=PARAMS, headers=bearer(token))
            assert answer.status_code < 500, answer.text
            return answer.status_code

        assert await status(provider.token("RS256")) == 200
        assert await status(provider.token("ES256")) == 200
        assert provider.fetches == 1  # the key set is cached
        refused = {
            "another audience": provider.token(aud="another-app"),
            "another issuer": provider.token(iss="https://evil.test/realms/review"),
            "no audience": provider.token(aud=None),
            "unpublished key": provider.token(key=provider.stranger),
            "unknown kid": provider.token(kid="rsa-9", key=provider.stranger),
            "expired": provider.token(exp=datetime.now(UTC) - timedelta(minutes=1)),
            "too long": provider.token(exp=datetime.now(UTC) + timedelta(hours=13)),
            "unknown role": provider.token(role="superuser"),
            # Algorithm confusion: HS256 "signed" with the provider's public key.
            "public key as HMAC secret": hmac_by_hand(
                {"sub": "x", "role": "admin", "exp": int(datetime.now(UTC).timestamp()) + 300},
                public_pem,
            ),
        }
        for name, token in refused.items():
            assert await status(token) == 401, name
        # HS256 tokens of the configured secret still work beside the provider's.
        assert await status(mint_token(Settings(jwt_secret=STRONG_SECRET), "a", "auditor")) == 200


# --------------------------------------------------------------------------- sign-out


async def test_sign_out_revokes_the_token_on_the_server(
    console: Console, settings: Settings, http: httpx.AsyncClient
) -> None:
    session = await console.sign_in(AUDITOR)
    token = session.http.cookies.get("reviewchain_console")
    assert token
    assert (await http.get(VERIFY, params=PARAMS, headers=bearer(token))).status_code == 200
    page = (await session.get("/console/audit")).text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert csrf
    out = await session.http.post("/console/logout", data={"csrf": csrf.group(1)})
    assert out.status_code == 303

    # A copy of the cookie, kept from before the sign-out, opens nothing any more...
    thief = console.client()
    thief.cookies.set("reviewchain_console", token, domain="console.test", path="/console")
    again = await thief.get("/console/audit")
    assert again.status_code == 303 and again.headers["location"].startswith("/console/login")
    # ... and neither does the same token as a bearer.
    answer = await http.get(VERIFY, params=PARAMS, headers=bearer(token))
    assert answer.status_code == 401 and "revoked" in answer.text
    # Other tokens of the same person are unaffected.
    fresh = mint_token(settings, AUDITOR.id, AUDITOR.role)
    assert (await http.get(VERIFY, params=PARAMS, headers=bearer(fresh))).status_code == 200
