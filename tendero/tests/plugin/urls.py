from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from tendero.tests.plugin.models import FieldNote

app_name = "plugin"


@login_required
@permission_required("plugin.view_fieldnote", raise_exception=True)
def notes(request: HttpRequest) -> HttpResponse:
    return render(request, "plugin/notes.html", {"notes": FieldNote.objects.order_by("pk")})


urlpatterns = [path("", notes, name="notes")]
