from django.urls import path

from tendero.dialogue import views

app_name = "dialogue"
urlpatterns = [
    path("customers/<int:pk>/interactions/new/", views.log_interaction, name="log"),
    path("customers/<int:pk>/rhythm/", views.set_rhythm, name="rhythm"),
    path("customers/<int:pk>/follow-ups/", views.open_follow_ups, name="follow_ups"),
    path("interactions/<int:pk>/edit/", views.edit_interaction, name="edit"),
    path("interactions/<int:pk>/delete/", views.delete_interaction, name="delete"),
    path(
        "interactions/<int:pk>/complete-follow-up/",
        views.complete_follow_up,
        name="complete_follow_up",
    ),
    path("voice/", views.voice, name="voice"),
    path("going-quiet/", views.going_quiet, name="going_quiet"),
]
