from django.urls import path

from tendero.customers import search_views

app_name = "search"
urlpatterns = [
    path("search/", search_views.results, name="results"),
    path("search/suggest/", search_views.suggest, name="suggest"),
]
