from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from tendero import views
from tendero.api import api
from tendero.core import registry

# Error pages in the site's layout, and JSON under /api/ (tendero.core.http). Django
# sends a request too big or with too many fields to handler400: it answers 413/400.
handler400 = "tendero.core.http.bad_request"
handler404 = "tendero.core.http.page_not_found"
handler500 = "tendero.core.http.server_error"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="customers:list", permanent=False)),
    path("healthz", views.healthz, name="healthz"),
    # Each app mounts its own pages (tendero.core.registry), in their order.
    *(path(conf.prefix, include(conf.module)) for conf in registry.urlconfs),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]
