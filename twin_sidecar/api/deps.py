"""FastAPI dependencies: how a router reaches the twin's parts (no module globals)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from twin_sidecar.parts import TwinParts


def get_parts(request: Request) -> TwinParts:
    return request.app.state.parts


Parts = Annotated[TwinParts, Depends(get_parts)]
