"""Random credentials and their storage form: only hashes reach the database (ONC (d)(12))."""

import hashlib
import hmac
import secrets

TOKEN_PREFIX = "kg_"  # noqa: S105  (marks ketaguard tokens in logs and scanners)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def new_api_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    # A fast hash is enough: these are 256-bit random values, not guessable passwords.
    return hashlib.sha256(token.encode()).hexdigest()


def sign(value: str, key: str) -> str:
    mac = hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()
    return f"{value}.{mac}"


def unsign(signed: str, key: str) -> str | None:
    """The value if its signature is ours, else None (a forged cookie never reaches a query)."""
    value, _, mac = signed.rpartition(".")
    expected = hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()
    return value if value and hmac.compare_digest(mac, expected) else None
