"""Duplicates: REST endpoints."""

from ninja import Router

router = Router(tags=["Duplicates"])
