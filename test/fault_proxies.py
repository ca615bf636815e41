"""Loopback proxies in front of the real S2 and S1 servers that inject one fault each, for the
tests that check lingnav-diagnose names the subsystem that failed."""
from __future__ import annotations

import asyncio

import requests
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response


def _health(app: FastAPI, upstream: str) -> None:
    @app.get("/health")
    def health():
        r = requests.get(upstream + "/health", timeout=2.0)
        return JSONResponse(r.json(), status_code=r.status_code)


def wrong_object_s2(upstream_port: int, asked: str, instead: str):
    """S2 that points at `instead` while claiming `asked`: the instruction is rewritten on the way
    to the real color S2, and its answer's target name back on the way out."""
    upstream = f"http://127.0.0.1:{upstream_port}"

    def factory() -> FastAPI:
        app = FastAPI()
        _health(app, upstream)

        @app.post("/step")
        async def step(request: Request):
            form = await request.form()
            image = await form["image"].read()
            data = {k: v for k, v in form.items() if k != "image" and isinstance(v, str)}
            data["instruction"] = data.get("instruction", "").replace(asked, instead)
            r = await asyncio.to_thread(requests.post, upstream + "/step", files={"image": ("f.jpg", image,
                                                                                            "image/jpeg")},
                                        data=data, timeout=10.0)
            body = r.json()
            if isinstance(body, dict) and body.get("target") == instead:
                body["target"] = asked
                for task in body.get("tasks", []):
                    if task.get("target") == instead:
                        task["target"] = asked
            return JSONResponse(body, status_code=r.status_code)

        return app

    return factory


def slow_s1(upstream_port: int, delay_s: float):
    """S1 that answers every plan `delay_s` late (resets and health at once)."""
    upstream = f"http://127.0.0.1:{upstream_port}"

    def factory() -> FastAPI:
        app = FastAPI()
        _health(app, upstream)

        @app.post("/{path:path}")
        async def forward(path: str, request: Request):
            body = await request.body()
            if "step" in path:
                await asyncio.sleep(delay_s)
            r = await asyncio.to_thread(requests.post, f"{upstream}/{path}", data=body, timeout=10.0,
                                        headers={"Content-Type": request.headers.get("content-type", "")})
            return Response(r.content, status_code=r.status_code, media_type="application/json")

        return app

    return factory
