"""Times on a page: in the viewer's clinic's time zone, named, so nobody converts by hand."""

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ketaguard.clinics.service import memberships_of
from ketaguard.web.deps import Viewer

UTC_ZONE = ZoneInfo("UTC")


def viewer_zone(db: Session, viewer: Viewer) -> ZoneInfo:
    """The time zone of the viewer's clinics; UTC when they work in clinics in different zones."""
    zones = {membership.clinic.timezone for membership in memberships_of(db, viewer.user.id)}
    return ZoneInfo(zones.pop()) if len(zones) == 1 else UTC_ZONE


def time_formatter(zone: ZoneInfo) -> Callable[[datetime | None], str]:
    """A function for templates: an instant as "21 Nov 2026 08:05 CST", or "" for None."""

    def shown(value: datetime | None) -> str:
        if value is None:
            return ""
        local = value.astimezone(zone)
        return f"{local.day} {local:%b %Y %H:%M %Z}"

    return shown
