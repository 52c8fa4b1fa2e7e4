"""Finding 15: `shudi handbook --out X` leaves an existing X/.chromium/ and its contents alone."""

from __future__ import annotations

from pathlib import Path

from shudi import handbook


def test_existing_chromium_folder_is_kept(tmp_path: Path, monkeypatch) -> None:
    keep = tmp_path / ".chromium" / "mine.txt"
    keep.parent.mkdir()
    keep.write_text("user data", encoding="utf-8")
    html = tmp_path / "h.html"
    html.write_text("<html><body>x</body></html>", encoding="utf-8")
    seen = {}

    def fake_run(cmd, **_):  # noqa: ANN001, ANN003
        seen["profile"] = next(c for c in cmd if c.startswith("--user-data-dir="))
        (tmp_path / "h.pdf").write_bytes(b"%PDF")

    monkeypatch.setattr(handbook.shutil, "which", lambda _: "/usr/bin/chromium")
    monkeypatch.setattr(handbook.subprocess, "run", fake_run)
    assert handbook.print_pdf(html, tmp_path / "h.pdf")
    assert keep.read_text(encoding="utf-8") == "user data"
    assert str(tmp_path) not in seen["profile"]
