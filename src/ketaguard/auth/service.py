import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketaguard.auth.models import User
from ketaguard.auth.passwords import hash_password
from ketaguard.kit.errors import Conflict, InvalidInput


def normalise_email(email: str) -> str:
    cleaned = email.strip().lower()
    if "@" not in cleaned or cleaned.startswith("@") or cleaned.endswith("@"):
        raise InvalidInput(f"{email!r} is not an e-mail address")
    return cleaned


def find_user_by_email(db: Session, email: str) -> User | None:
    return db.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(
    db: Session, *, organisation_id: uuid.UUID, email: str, full_name: str, password: str
) -> User:
    if not full_name.strip():
        raise InvalidInput("Full name must not be empty")
    address = normalise_email(email)
    if find_user_by_email(db, address) is not None:
        raise Conflict(f"A user with e-mail {address} already exists")
    user = User(
        organisation_id=organisation_id,
        email=address,
        full_name=full_name.strip(),
        password_hash=hash_password(password),
    )
    db.add(user)
    db.flush()
    return user


def count_users(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(User)) or 0
