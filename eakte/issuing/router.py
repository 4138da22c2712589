"""Issuing routes (filled below)."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["issuing"])
