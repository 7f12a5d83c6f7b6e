from django.urls import path
from django.views.generic import RedirectView

app_name = "evaluation"
# The school's result lives in the portal (/result/); the old address leads there.
urlpatterns = [
    path("evaluation/my-result/", RedirectView.as_view(pattern_name="portal:result", permanent=True), name="my-result")
]
