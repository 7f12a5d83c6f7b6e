from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("reports/", views.index, name="index"),
    path("reports/package/", views.queue_package, name="package"),
    path("reports/<slug:code>.<str:fmt>", views.download, name="download"),
    path("reports/<slug:code>/queue/", views.queue, name="queue"),
    path("reports/files/<int:pk>/", views.file_download, name="file"),
    path("reports/files/<int:pk>/status/", views.file_status, name="file-status"),
]
