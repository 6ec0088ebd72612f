"""Admin accounts: create, check a password, and the first admin from ADMIN_PASSWORD."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from supportbot import config
from supportbot.extensions import db
from supportbot.models import AdminUser

log = logging.getLogger(__name__)

ROLES = ("admin", "viewer")
MIN_PASSWORD = 12
# compared against when the email is unknown, so a miss costs as long as a hit
_DUMMY_HASH = generate_password_hash("not a password of anyone")


class AccountError(ValueError):
    """The account cannot be created; the message says why."""


class SignedIn(UserMixin):
    """The signed-in account as Flask-Login sees it: a snapshot, not the ORM row."""

    def __init__(self, user: AdminUser):
        self.user_id = user.id
        self.email = user.email
        self.role = user.role
        self.session_version = user.session_version

    def get_id(self) -> str:
        # the version is part of the id: signing out everywhere bumps it
        return f"{self.user_id}.{self.session_version}"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def load(session_id: str) -> SignedIn | None:
    user_id, _, version = session_id.partition(".")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db.session.get(AdminUser, int(user_id))
    if user is None or user.session_version != int(version):
        return None
    return SignedIn(user)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create(email: str, password: str, role: str, min_length: int = MIN_PASSWORD) -> AdminUser:
    email = normalise_email(email)
    if "@" not in email or len(email) > 255:
        raise AccountError(f"{email!r} is not an email address")
    if role not in ROLES:
        raise AccountError(f"role must be admin or viewer, got {role!r}")
    if len(password) < min_length:
        raise AccountError(f"the password must have at least {min_length} characters")
    if db.session.scalar(sa.select(AdminUser.id).where(AdminUser.email == email)) is not None:
        raise AccountError(f"an account for {email} exists already")
    # Werkzeug's default is scrypt: memory-hard, and no extra dependency
    user = AdminUser(email=email, password_hash=generate_password_hash(password), role=role)
    db.session.add(user)
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> AdminUser | None:
    user = db.session.scalars(sa.select(AdminUser).where(AdminUser.email == normalise_email(email))).first()
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def end_sessions(user_id: int) -> None:
    """Every cookie issued for the account stops working."""
    db.session.execute(
        sa.update(AdminUser)
        .where(AdminUser.id == user_id)
        .values(session_version=AdminUser.session_version + 1)
    )
    db.session.commit()


def bootstrap() -> None:
    """On an empty accounts table, ADMIN_PASSWORD creates the first admin (ADMIN_EMAIL)."""
    password = config.current().admin_password
    if not password or db.session.scalar(sa.select(AdminUser.id).limit(1)) is not None:
        db.session.rollback()
        return
    # development's default password is short on purpose; production's must not be
    dev = config.current().development
    try:
        create(config.current().admin_email, password, "admin", min_length=1 if dev else MIN_PASSWORD)
    except AccountError as exc:
        db.session.rollback()
        log.error("ADMIN_PASSWORD did not create the first admin: %s", exc)
    except sa.exc.IntegrityError:
        db.session.rollback()  # another process created it at the same moment
    else:
        log.info("created the first admin account from ADMIN_PASSWORD")
