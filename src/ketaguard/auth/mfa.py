"""TOTP multi-factor authentication and recovery codes (ONC 170.315(d)(13), OWASP ASVS 5 V6).

Pure functions: the caller loads and stores `User.mfa_secret_encrypted`, `User.mfa_last_step` and
`RecoveryCode.code_hash`. TOTP follows RFC 6238 with the parameters every authenticator app
assumes (SHA-1, 6 digits, 30-second steps); apps silently ignore other values in the URI.
"""

import base64
import hashlib
import hmac
import io
import re
import secrets
from datetime import UTC, datetime, timedelta

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

TOTP_DIGITS = 6
TOTP_STEP = timedelta(seconds=30)
# One step either side tolerates a phone clock that is up to ~30 s off (RFC 6238 §5.2) without
# widening the window an observed code stays valid for more than necessary.
TOTP_DRIFT_STEPS = 1

RECOVERY_CODE_COUNT = 10
# Lowercase letters and digits without 0/o and 1/l, which are misread when a code is read aloud or
# copied from paper. 32 symbols, so each character carries exactly 5 bits.
RECOVERY_CODE_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
RECOVERY_CODE_GROUP = 5
# Five groups of five: 125 bits. ASVS 5 V6.5.2 allows a plain (fast, unsalted) hash only for lookup
# secrets of at least 112 bits; shorter codes would need a salted password hash such as argon2id.
RECOVERY_CODE_GROUPS = 5

_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TOTP_CODE = re.compile(rf"[0-9]{{{TOTP_DIGITS}}}")
_WHITESPACE = re.compile(r"\s+")
_HKDF_INFO = b"ketaguard mfa secret"


class MfaSecretUnreadable(RuntimeError):
    """The encrypted TOTP secret does not decrypt with the current application secret key."""

    def __init__(self) -> None:
        super().__init__(
            "The stored MFA secret cannot be decrypted: KETAGUARD_SECRET_KEY has changed since "
            "this user enrolled. An admin must reset the user's MFA so they can enrol their "
            "authenticator again."
        )


def new_totp_secret() -> str:
    # 32 base32 characters = 160 bits, the HMAC-SHA-1 key length RFC 4226 §4 recommends.
    return pyotp.random_base32(32)


def _fernet(secret_key: str) -> Fernet:
    # No salt: the input is the application's secret key, already a high-entropy value, and
    # RFC 5869 §3.1 makes the salt optional for such keys. A salt would also have to be stored
    # and kept stable, or every stored secret would become unreadable. The fixed `info` keeps this
    # key separate from anything else derived from the same secret key.
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO)
    key = hkdf.derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_secret(secret: str, secret_key: str) -> str:
    return _fernet(secret_key).encrypt(secret.encode()).decode("ascii")


def decrypt_secret(token: str, secret_key: str) -> str:
    try:
        return _fernet(secret_key).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise MfaSecretUnreadable() from exc


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(
        secret,
        digits=TOTP_DIGITS,
        digest=hashlib.sha1,
        interval=int(TOTP_STEP.total_seconds()),
    )


def provisioning_uri(secret: str, account: str, issuer: str = "ketaguard") -> str:
    return _totp(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    # make_qr, not make: segno would otherwise pick a Micro QR for short data, which authenticator
    # apps cannot scan. The white background keeps it scannable on a dark page theme, and the
    # default 4-module quiet zone is the minimum the QR specification requires.
    qr = segno.make_qr(uri, error="m")
    out = io.BytesIO()
    qr.save(
        out,
        kind="svg",
        xmldecl=False,
        svgns=True,
        nl=False,
        scale=4,
        light="#fff",
        title="Scan with your authenticator app",
    )
    return out.getvalue().decode()


def _step(at: datetime) -> int:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("match_totp needs a timezone-aware datetime")
    # Integer timedelta division, so no float rounding at step boundaries.
    return (at - _UNIX_EPOCH) // TOTP_STEP


def match_totp(secret: str, code: str, *, last_step: int | None, at: datetime) -> int | None:
    """The time step `code` belongs to, if it is valid at `at` and newer than `last_step`.

    The caller stores the returned step as the new `last_step`, so a code can be used once only
    and a code from before the last accepted one is refused (RFC 6238 §5.2, ASVS 5 V6.5.1).
    """
    current = _step(at)
    code = _WHITESPACE.sub("", code)
    if not _TOTP_CODE.fullmatch(code):
        return None
    totp = _totp(secret)
    matched: int | None = None
    # Every candidate is compared, so the response time does not reveal which step matched.
    for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1):
        if step < 0:
            continue
        is_match = hmac.compare_digest(totp.generate_otp(step).encode(), code.encode())
        if is_match and (last_step is None or step > last_step):
            # The latest step wins if two steps share a code, so last_step only moves forward.
            matched = step
    return matched


def new_recovery_codes() -> list[str]:
    codes: list[str] = []
    while len(codes) < RECOVERY_CODE_COUNT:
        groups = (
            "".join(secrets.choice(RECOVERY_CODE_ALPHABET) for _ in range(RECOVERY_CODE_GROUP))
            for _ in range(RECOVERY_CODE_GROUPS)
        )
        code = "-".join(groups)
        # A repeat is astronomically unlikely, but two equal codes would silently be one code.
        if code not in codes:
            codes.append(code)
    return codes


def _normalise_recovery_code(code: str) -> str:
    return _WHITESPACE.sub("", code).replace("-", "").lower()


def hash_recovery_code(code: str) -> str:
    # SHA-256 without salt or stretching is enough here: the codes are 125-bit random values, not
    # human-chosen passwords, so a stolen hash cannot be reversed by guessing (ASVS 5 V6.5.2), and
    # the hash stays deterministic, so a code can be found by its hash.
    return hashlib.sha256(_normalise_recovery_code(code).encode()).hexdigest()


def recovery_code_matches(code: str, code_hash: str) -> bool:
    return hmac.compare_digest(hash_recovery_code(code).encode(), code_hash.encode())
