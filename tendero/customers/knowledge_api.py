"""Personal knowledge: REST endpoints."""

from ninja import Router

router = Router(tags=["Personal knowledge"])
