"""Static files: ketaguard's own (in `static/`) and the browser libraries `make assets` installs.

The libraries come from the npm registry at install time (`frontend/package-lock.json`) and are
copied into `static/vendor/`, which is git-ignored: nothing third-party is committed, and nothing is
loaded from a CDN, so the pages work in a clinic without internet access.
"""

import logging
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

STATIC_DIR = Path(__file__).parent / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
STATIC_URL = "/static"

# Served name in static/vendor -> the file inside frontend/node_modules it is copied from.
VENDOR_FILES: Mapping[str, str] = MappingProxyType(
    {
        "htmx.min.js": "htmx.org/dist/htmx.min.js",
        "htmx.LICENSE": "htmx.org/LICENSE",
        "chart.umd.min.js": "chart.js/dist/chart.umd.min.js",
        "chart.js.LICENSE.md": "chart.js/LICENSE.md",
    }
)

log = logging.getLogger(__name__)


def missing_vendor_files(vendor_dir: Path = VENDOR_DIR) -> list[str]:
    """The browser libraries that are not installed, by served name; empty when all are there."""
    missing = [name for name in VENDOR_FILES if not (vendor_dir / name).is_file()]
    if missing:
        log.warning(
            "Browser libraries missing from %s: %s. The pages will say so; run `make assets`.",
            vendor_dir,
            ", ".join(missing),
        )
    return missing
