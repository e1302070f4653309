import base64
import math
import re
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qs, unquote, urlparse

import pytest
from sqlalchemy import String

from ketaguard.auth.mfa import (
    RECOVERY_CODE_ALPHABET,
    RECOVERY_CODE_COUNT,
    RECOVERY_CODE_GROUP,
    RECOVERY_CODE_GROUPS,
    MfaSecretUnreadable,
    decrypt_secret,
    encrypt_secret,
    hash_recovery_code,
    match_totp,
    new_recovery_codes,
    new_totp_secret,
    provisioning_uri,
    qr_svg,
    recovery_code_matches,
)
from ketaguard.auth.models import User

# RFC 6238 Appendix B: the SHA-1 seed is the ASCII string "12345678901234567890".
RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
]
# Step 37037036: 1111111109 // 30. Its code is "081804".
T = 1111111109
STEP = T // 30
CODE = "081804"
KEY = "a-long-random-application-secret-key"


def at(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, UTC)


def test_rfc_secret_is_the_base32_of_the_rfc_seed() -> None:
    assert base64.b32encode(b"12345678901234567890").decode() == RFC_SECRET


@pytest.mark.parametrize(("unix", "eight_digits"), RFC_VECTORS)
def test_rfc_6238_sha1_vectors(unix: int, eight_digits: str) -> None:
    # A 6-digit HOTP value is the 8-digit one modulo 10**6, i.e. its last six digits.
    assert match_totp(RFC_SECRET, eight_digits[-6:], last_step=None, at=at(unix)) == unix // 30


@pytest.mark.parametrize(("unix", "eight_digits"), RFC_VECTORS)
def test_rfc_8_digit_value_is_not_a_6_digit_code(unix: int, eight_digits: str) -> None:
    assert match_totp(RFC_SECRET, eight_digits, last_step=None, at=at(unix)) is None


def test_wrong_code_is_refused() -> None:
    assert match_totp(RFC_SECRET, "123456", last_step=None, at=at(T)) is None


def test_match_works_in_any_timezone() -> None:
    elsewhere = at(T).astimezone(timezone(timedelta(hours=10)))
    assert match_totp(RFC_SECRET, CODE, last_step=None, at=elsewhere) == STEP


@pytest.mark.parametrize("steps", [-1, 1])
def test_one_step_of_clock_drift_is_accepted(steps: int) -> None:
    # The server is `steps` steps ahead of (or behind) the phone that showed CODE.
    assert match_totp(RFC_SECRET, CODE, last_step=None, at=at(T + 30 * steps)) == STEP


@pytest.mark.parametrize("steps", [-2, 2])
def test_two_steps_of_clock_drift_are_refused(steps: int) -> None:
    assert match_totp(RFC_SECRET, CODE, last_step=None, at=at(T + 30 * steps)) is None


def test_a_used_code_cannot_be_used_again() -> None:
    step = match_totp(RFC_SECRET, CODE, last_step=None, at=at(T))
    assert step == STEP
    assert match_totp(RFC_SECRET, CODE, last_step=step, at=at(T)) is None
    # Still refused half a minute later, while it is inside the drift window.
    assert match_totp(RFC_SECRET, CODE, last_step=step, at=at(T + 30)) is None


def test_an_older_code_is_refused_after_a_newer_one_was_used() -> None:
    assert match_totp(RFC_SECRET, CODE, last_step=STEP + 1, at=at(T + 30)) is None


def test_a_newer_code_is_accepted_after_an_older_one_was_used() -> None:
    assert match_totp(RFC_SECRET, CODE, last_step=STEP - 1, at=at(T)) == STEP


@pytest.mark.parametrize(
    "code",
    [
        "",
        "08180",
        "0818041",
        "abcdef",
        "08a804",
        "081-804",
        "+81804",
        "٠٨١٨٠٤",  # Arabic-Indic digits for 081804: str.isdigit() would accept these.
        "07081804",
    ],
)
def test_malformed_codes_are_refused(code: str) -> None:
    assert match_totp(RFC_SECRET, code, last_step=None, at=at(T)) is None


@pytest.mark.parametrize("code", ["081 804", " 081804 ", "08 18 04", "081804\n"])
def test_spaces_in_a_code_are_ignored(code: str) -> None:
    assert match_totp(RFC_SECRET, code, last_step=None, at=at(T)) == STEP


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        match_totp(RFC_SECRET, CODE, last_step=None, at=datetime(2005, 3, 18, 1, 58, 29))  # noqa: DTZ001


def test_new_totp_secret_is_160_bit_base32() -> None:
    secret = new_totp_secret()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    assert len(secret) * 5 == 160
    assert new_totp_secret() != secret


def test_encryption_round_trip() -> None:
    secret = new_totp_secret()
    token = encrypt_secret(secret, KEY)
    assert decrypt_secret(token, KEY) == secret


def test_ciphertext_does_not_reveal_the_secret() -> None:
    secret = new_totp_secret()
    token = encrypt_secret(secret, KEY)
    assert token != secret
    assert secret not in token
    # A fresh IV each time: equal secrets do not give equal ciphertexts.
    assert encrypt_secret(secret, KEY) != token


def test_ciphertext_fits_the_user_column() -> None:
    column_type = User.__table__.c.mfa_secret_encrypted.type
    assert isinstance(column_type, String)
    assert column_type.length is not None
    assert len(encrypt_secret(new_totp_secret(), KEY)) <= column_type.length


def test_wrong_key_raises_mfa_secret_unreadable() -> None:
    token = encrypt_secret(new_totp_secret(), KEY)
    with pytest.raises(MfaSecretUnreadable) as raised:
        decrypt_secret(token, KEY + "-rotated")
    assert isinstance(raised.value, RuntimeError)
    message = str(raised.value)
    assert "KETAGUARD_SECRET_KEY has changed" in message
    assert "admin must reset" in message


def test_garbage_ciphertext_raises_mfa_secret_unreadable() -> None:
    with pytest.raises(MfaSecretUnreadable):
        decrypt_secret("not-a-fernet-token", KEY)


def test_provisioning_uri_names_issuer_and_account() -> None:
    secret = new_totp_secret()
    uri = provisioning_uri(secret, "nurse@clinic-a.example")
    parsed = urlparse(uri)
    query = parse_qs(parsed.query)
    assert parsed.scheme == "otpauth"
    assert parsed.netloc == "totp"
    assert unquote(parsed.path) == "/ketaguard:nurse@clinic-a.example"
    assert query["issuer"] == ["ketaguard"]
    assert query["secret"] == [secret]


def test_provisioning_uri_uses_a_given_issuer() -> None:
    uri = provisioning_uri(new_totp_secret(), "a@b.example", issuer="Clinic A")
    assert parse_qs(urlparse(uri).query)["issuer"] == ["Clinic A"]


def test_qr_svg_is_inline_and_self_contained() -> None:
    svg = qr_svg(provisioning_uri(new_totp_secret(), "nurse@clinic-a.example"))
    assert svg.startswith("<svg")
    assert svg.rstrip().endswith("</svg>")
    assert "<?xml" not in svg
    assert "<title>Scan with your authenticator app</title>" in svg
    assert "href" not in svg
    urls = re.findall(r"https?://[^\"'\s<>]+", svg)
    assert set(urls) <= {"http://www.w3.org/2000/svg"}


def test_recovery_codes_count_and_uniqueness() -> None:
    codes = new_recovery_codes()
    assert len(codes) == RECOVERY_CODE_COUNT == 10
    assert len(set(codes)) == len(codes)
    assert set(new_recovery_codes()).isdisjoint(codes)


def test_recovery_code_format() -> None:
    alphabet = re.escape(RECOVERY_CODE_ALPHABET)
    group = f"[{alphabet}]{{{RECOVERY_CODE_GROUP}}}"
    pattern = re.compile(f"{group}(-{group}){{{RECOVERY_CODE_GROUPS - 1}}}")
    for code in new_recovery_codes():
        assert pattern.fullmatch(code), code
        assert not set(code) & set("0o1lABCDEFGHIJKLMNOPQRSTUVWXYZ")


def test_recovery_code_alphabet_is_unambiguous() -> None:
    assert len(set(RECOVERY_CODE_ALPHABET)) == len(RECOVERY_CODE_ALPHABET)
    assert not set(RECOVERY_CODE_ALPHABET) & set("0o1l")
    assert RECOVERY_CODE_ALPHABET.islower()


def test_recovery_code_entropy() -> None:
    code = new_recovery_codes()[0]
    bits = len(code.replace("-", "")) * math.log2(len(RECOVERY_CODE_ALPHABET))
    assert bits >= 50
    # ASVS 5 V6.5.2: the unsalted SHA-256 hash is acceptable only from 112 bits.
    assert bits >= 112


def test_recovery_code_hash_normalises_case_spaces_and_hyphens() -> None:
    code = new_recovery_codes()[0]
    expected = hash_recovery_code(code)
    assert re.fullmatch(r"[0-9a-f]{64}", expected)
    variants = [code.upper(), code.replace("-", ""), code.replace("-", " "), f"  {code}\n"]
    for variant in variants:
        assert hash_recovery_code(variant) == expected, variant
        assert recovery_code_matches(variant, expected), variant


def test_recovery_code_hash_does_not_contain_the_code() -> None:
    code = new_recovery_codes()[0]
    assert code.replace("-", "") not in hash_recovery_code(code)


def test_recovery_code_mismatch() -> None:
    first, second = new_recovery_codes()[:2]
    assert hash_recovery_code(first) != hash_recovery_code(second)
    assert not recovery_code_matches(second, hash_recovery_code(first))
    assert not recovery_code_matches("", hash_recovery_code(first))
    # A truncated code must not match, even though it is a prefix after normalisation.
    assert not recovery_code_matches(first[:-1], hash_recovery_code(first))
