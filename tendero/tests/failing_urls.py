"""The site's addresses plus two that fail, to see what a server error answers."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from tendero.urls import handler400, handler404, handler500
from tendero.urls import urlpatterns as site_urlpatterns

__all__ = ["handler400", "handler404", "handler500", "urlpatterns"]


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", boom), path("api/v1/boom", boom), *site_urlpatterns]
