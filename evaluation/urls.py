from django.urls import path

from . import views

app_name = "evaluation"
urlpatterns = [path("evaluation/my-result/", views.my_result, name="my-result")]
