"""Password hashing with argon2id (OWASP ASVS V6), using argon2-cffi's RFC 9106 parameters."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ketaguard.kit.errors import InvalidInput

MIN_PASSWORD_LENGTH = 12  # ASVS 5 V6.2.1: at least 12 characters.
MAX_PASSWORD_LENGTH = 128

_hasher = PasswordHasher()


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"Password must be at least {MIN_PASSWORD_LENGTH} characters long", field="password"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"Password must be at most {MAX_PASSWORD_LENGTH} characters long", field="password"
        )


def hash_password(password: str) -> str:
    check_password_policy(password)
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
