"""Adding the web app to the FastAPI application: its routes, static files and error pages."""

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from ketaguard.web.admin_routes import router as admin_router
from ketaguard.web.assets import STATIC_DIR, STATIC_URL, VENDOR_DIR, missing_vendor_files
from ketaguard.web.audit_routes import router as audit_router
from ketaguard.web.dependence_routes import router as dependence_router
from ketaguard.web.errors import install_page_error_handlers
from ketaguard.web.login_routes import router as login_router
from ketaguard.web.patient_routes import router as patient_router
from ketaguard.web.portal_routes import router as portal_router
from ketaguard.web.protocol_routes import router as protocols_router
from ketaguard.web.routes import router as pages_router
from ketaguard.web.schedule_routes import router as schedule_router
from ketaguard.web.self_check_routes import router as self_check_router
from ketaguard.web.session_routes import router as session_router


def install_web(app: FastAPI, *, vendor_dir: Path = VENDOR_DIR) -> None:
    """Call after install_error_handlers, whose DomainError handler this replaces with one that
    also renders pages, and after any mount under /static (mounts match in order)."""
    # Every page names what is missing instead of half-working without its scripts.
    app.state.missing_assets = missing_vendor_files(vendor_dir)
    install_page_error_handlers(app)
    app.include_router(login_router)
    app.include_router(pages_router)
    app.include_router(portal_router)
    app.include_router(patient_router)
    app.include_router(dependence_router)
    app.include_router(self_check_router)
    app.include_router(admin_router)
    app.include_router(audit_router)
    app.include_router(protocols_router)
    app.include_router(schedule_router)
    app.include_router(session_router)
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="static")
