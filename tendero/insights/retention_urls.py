from django.urls import path

from tendero.insights import retention_views

app_name = "retention"
urlpatterns = [
    path("insights/", retention_views.insights, name="insights"),
]
