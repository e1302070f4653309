"""Rendering a page: the shared layout's data, and the headers every page carries."""

from collections.abc import Mapping
from functools import cache
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from ketaguard.web.assets import STATIC_URL
from ketaguard.web.deps import Viewer
from ketaguard.web.nav import nav_for

# Scripts and styles come only from ketaguard itself: an injected inline script cannot run.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    # Pages show patient data: a shared computer's back button or cache must not bring it back.
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("ketaguard.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(
    request: Request,
    template: str,
    *,
    viewer: Viewer | None = None,
    public_nav: bool = True,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render a page in the shared layout. Without a viewer the layout links to the public pages,
    unless `public_nav` is off (error pages, which may be shown to someone signed in)."""
    html = (
        environment()
        .get_template(template)
        .render(
            viewer=viewer,
            nav=nav_for(viewer.principal) if viewer else (),
            public_nav=public_nav,
            path=request.url.path,
            static=STATIC_URL,
            missing_assets=request.app.state.missing_assets,
            **context,
        )
    )
    return HTMLResponse(html, status_code=status_code, headers=dict(PAGE_HEADERS))
