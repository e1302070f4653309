"""The main navigation: which pages each kind of account sees. A new page adds its link here."""

from collections.abc import Callable
from dataclasses import dataclass

from ketaguard.auth.permissions import Permission
from ketaguard.auth.principal import Principal, PrincipalKind


@dataclass(frozen=True)
class NavLink:
    label: str
    path: str
    shown_to: Callable[[Principal], bool]


def _staff(principal: Principal) -> bool:
    return principal.kind is PrincipalKind.staff


def _patient(principal: Principal) -> bool:
    return principal.kind is PrincipalKind.patient


NAV_LINKS = (
    NavLink("Home", "/", _staff),
    NavLink("My portal", "/portal", _patient),
    NavLink("Patients", "/patients", lambda p: p.can(Permission.patient_read)),
    # Whoever books sessions or runs them works from the day's list.
    NavLink(
        "Sessions today",
        "/sessions",
        lambda p: p.can(Permission.session_run) or p.can(Permission.session_book),
    ),
    NavLink("Book a session", "/booking", lambda p: p.can(Permission.session_book)),
    NavLink("Dependence watch", "/dependence", lambda p: p.can(Permission.patient_read)),
    NavLink("REMS forms", "/rems", lambda p: p.can(Permission.rems_submit)),
    NavLink("Protocols", "/protocols", lambda p: p.can(Permission.patient_read)),
    # Admin pages, each shown to whoever holds the permission its API routes need.
    NavLink("Users", "/admin/users", lambda p: p.can(Permission.user_manage)),
    NavLink("Security", "/admin/organisation", lambda p: p.can(Permission.organisation_manage)),
    NavLink("API tokens", "/admin/tokens", lambda p: p.can(Permission.token_manage)),
    NavLink("Audit report", "/admin/audit", lambda p: p.can(Permission.audit_read)),
    NavLink(
        "Emergency access", "/admin/break-glass", lambda p: p.can(Permission.break_glass_review)
    ),
    # Admins set up integrations, whose requests the API documentation describes.
    NavLink("API documentation", "/docs", lambda p: p.can(Permission.token_manage)),
)


def nav_for(principal: Principal) -> tuple[NavLink, ...]:
    return tuple(link for link in NAV_LINKS if link.shown_to(principal))
