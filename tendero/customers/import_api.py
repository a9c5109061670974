"""Import and export: REST endpoints."""

from ninja import Router

router = Router(tags=["Import and export"])
