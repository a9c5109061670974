from django.urls import path

from tendero.customers import views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/timeline/", views.customer_timeline, name="timeline"),
    path("<int:pk>/about/", views.customer_knowledge, name="knowledge"),
    path("<int:pk>/contacts/", views.customer_contacts, name="contacts"),
    path("<int:pk>/history/", views.customer_history, name="history"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/delete/", views.customer_delete, name="delete"),
    path("<int:pk>/level/", views.change_level, name="change_level"),
    path("<int:pk>/account-executive/", views.assign_account_executive, name="assign"),
    path("<int:pk>/contacts/new/", views.contact_create, name="contact_create"),
    path("<int:pk>/contacts/<int:contact_pk>/edit/", views.contact_edit, name="contact_edit"),
    path(
        "<int:pk>/contacts/<int:contact_pk>/delete/",
        views.contact_delete,
        name="contact_delete",
    ),
]
