"""/docs and /openapi.json behind the same bearer token as the API when one is set.

Create the app with `docs_url=None, openapi_url=None, redoc_url=None` and call `install_docs`:
the schema lists every route and parameter, so it is only for clients that may use them.
"""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from lingnav_http.auth import TokenAuth


def install_docs(app: FastAPI, auth: TokenAuth) -> None:
    @app.get("/openapi.json", include_in_schema=False)
    async def openapi(request: Request) -> JSONResponse:
        auth.require(request.headers.get("authorization"))
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        auth.require(request.headers.get("authorization"))
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} - docs")
