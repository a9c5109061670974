"""Personal knowledge pages (full paths; namespace "knowledge")."""

from django.urls import path

from tendero.knowledge import views

app_name = "knowledge"
urlpatterns = [
    path("customers/<int:pk>/knowledge/", views.panel, name="panel"),
    path("customers/<int:pk>/facts/new/", views.add, name="add"),
    path("customers/<int:pk>/facts/<int:fact_pk>/", views.fact, name="fact"),
    path("customers/<int:pk>/facts/<int:fact_pk>/edit/", views.edit, name="edit"),
    path("customers/<int:pk>/facts/<int:fact_pk>/retire/", views.retire, name="retire"),
]
