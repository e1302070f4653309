from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import ketaguard
from ketaguard.alerts.routes import router as alerts_router
from ketaguard.audit.routes import router as audit_router
from ketaguard.auth.admin_routes import router as admin_router
from ketaguard.auth.routes import router as auth_router
from ketaguard.checkins.routes import router as checkins_router
from ketaguard.config import Settings, load_settings
from ketaguard.db.engine import build_engine, build_sessionmaker
from ketaguard.db.group_commit import GroupCommitter
from ketaguard.db.migrate import ensure_schema_current
from ketaguard.dependence.routes import router as dependence_router
from ketaguard.docs.routes import ASSETS_MOUNT, swagger_assets
from ketaguard.docs.routes import router as docs_router
from ketaguard.health.routes import router as health_router
from ketaguard.intake.routes import router as intake_router
from ketaguard.kit.errors import install_error_handlers
from ketaguard.patients.routes import router as patients_router
from ketaguard.plans.routes import router as plans_router
from ketaguard.protocols.routes import router as protocols_router
from ketaguard.screening.routes import router as screening_router
from ketaguard.sessions.routes import router as sessions_router
from ketaguard.web.install import install_web


def create_app(settings: Settings, *, check_schema: bool = True) -> FastAPI:
    engine = build_engine(settings)
    factory = build_sessionmaker(engine)
    committer = GroupCommitter(factory, gather_seconds=settings.group_gather_ms / 1000)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if check_schema:
            ensure_schema_current(engine)
        yield
        await committer.close()
        engine.dispose()

    app = FastAPI(
        title="ketaguard",
        version=ketaguard.__version__,
        summary="Safeguards for ketamine and esketamine therapy.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = factory
    app.state.committer = committer
    install_error_handlers(app)
    # First: a request is matched against the routes in order, and the chair-side routes, where
    # bedside gateways post vital signs many times a second, are the busiest.
    app.include_router(sessions_router)
    app.include_router(health_router)
    app.include_router(docs_router)
    app.include_router(auth_router)
    app.include_router(admin_router)
    app.include_router(patients_router)
    app.include_router(audit_router)
    app.include_router(intake_router)
    app.include_router(alerts_router)
    app.include_router(screening_router)
    app.include_router(protocols_router)
    app.include_router(plans_router)
    app.include_router(checkins_router)
    app.include_router(dependence_router)
    app.mount(ASSETS_MOUNT, swagger_assets, name="swagger-assets")
    install_web(app)
    return app


def app_from_environment() -> FastAPI:
    """Factory for `uvicorn --factory ketaguard.app:app_from_environment`."""
    return create_app(load_settings())
