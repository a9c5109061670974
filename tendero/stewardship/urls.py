from django.urls import path

from tendero.stewardship import views

app_name = "duplicates"
urlpatterns = [
    path("duplicates/", views.duplicate_list, name="list"),
    path("duplicates/<int:pair_id>/dismiss/", views.dismiss, name="dismiss"),
    path("customers/<int:pk>/merge/<int:other_pk>/", views.compare, name="compare"),
    path("customers/<int:pk>/duplicates/", views.candidates, name="candidates"),
]
