"""The service plus a bare constant-JSON route, for bench/status.py (not shipped in eakte)."""

from __future__ import annotations

import uvicorn

from eakte.app import create_app
from eakte.config import Settings

BARE_BODY = {
    "file_number": "BA-2026-00001",
    "status": {"state": "eingegangen", "label_de": "Eingegangen", "label_en": "Received"},
}


def main() -> None:
    settings = Settings()
    app = create_app(settings)

    @app.get("/bench/bare")
    async def bare() -> dict[str, object]:
        return BARE_BODY

    uvicorn.run(app, host="127.0.0.1", port=settings.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
