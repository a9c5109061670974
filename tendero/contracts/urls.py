from django.urls import path

from tendero.contracts import views

app_name = "contracts"
urlpatterns = [
    path("customers/<int:pk>/purchases/", views.customer_purchases, name="customer_purchases"),
    path("purchases/", views.purchase_list, name="list"),
    path("purchases/<int:pk>/edit/", views.edit_purchase, name="edit"),
    path("purchases/<int:pk>/delete/", views.delete_purchase, name="delete"),
]
