from django.urls import URLPattern, path

from tendero.customers import import_views

app_name = "imports"
urlpatterns: list[URLPattern] = [
    path("imports/", import_views.job_list, name="list"),
    path("imports/new/", import_views.job_new, name="new"),
    path("imports/<int:pk>/", import_views.job_detail, name="detail"),
    path("imports/<int:pk>/map/", import_views.job_map, name="map"),
    path("imports/<int:pk>/run/", import_views.job_run, name="run"),
    path("imports/<int:pk>/errors.csv", import_views.job_errors_csv, name="errors_csv"),
    path("customers/export/", import_views.export_customers, name="export_customers"),
]
