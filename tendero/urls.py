from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from tendero import views
from tendero.api import api

# Error pages in the site's layout, and JSON under /api/ (tendero.core.http). Django
# sends a request too big or with too many fields to handler400: it answers 413/400.
handler400 = "tendero.core.http.bad_request"
handler404 = "tendero.core.http.page_not_found"
handler500 = "tendero.core.http.server_error"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="customers:list", permanent=False)),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("tendero.accounts.urls")),
    path("customers/", include("tendero.customers.urls")),
    # Each capability mounts its own pages (full paths, own namespace).
    path("", include("tendero.customers.knowledge_urls")),
    path("", include("tendero.customers.search_urls")),
    path("", include("tendero.customers.import_urls")),
    path("", include("tendero.customers.duplicates_urls")),
    path("", include("tendero.dialogue.urls")),
    path("", include("tendero.contracts.urls")),
    path("", include("tendero.insights.urls")),
    path("", include("tendero.insights.retention_urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]
