"""The pages people use (plain HTML and JS shipped in the package; no build step, no CDN)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
router = APIRouter(include_in_schema=False)


@router.get("/")
def operator_page() -> FileResponse:
    return FileResponse(WEB_DIR / "index.html", media_type="text/html; charset=utf-8")


@router.get("/static/base.css")
def base_stylesheet() -> FileResponse:
    return FileResponse(WEB_DIR / "base.css", media_type="text/css; charset=utf-8")
