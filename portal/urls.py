from django.urls import path

from . import people_views, views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("exchanges/", views.exchanges, name="exchanges"),
    path("exchanges/<int:pk>/", views.exchange_edit, name="exchange-edit"),
    path("spending/", views.spending, name="spending"),
    path("tasks/", views.tasks, name="tasks"),
    path("tasks/<int:pk>/", views.task_update, name="task-update"),
    path("meetings/", views.meetings, name="meetings"),
    path("meetings/<int:pk>/", views.meeting_edit, name="meeting-edit"),
    path("activities/", views.activities, name="activities"),
    path("activities/<int:pk>/", views.activity_edit, name="activity-edit"),
    path("attachments/<int:pk>/delete/", views.attachment_delete, name="attachment-delete"),
    path("result/", views.result_latest, name="result"),
    path("result/<int:pk>/", views.result_detail, name="result-detail"),
    path("result/<int:pk>/appeal/", views.result_appeal, name="result-appeal"),
    path("people/", people_views.person_results, name="person-results"),
    path("people/<int:pk>/", people_views.person_result, name="person-result"),
    path("assess/<int:period_pk>/", views.assess, name="assess"),
    path("assess/<int:period_pk>/<int:school_pk>/", views.assess, name="assess-school"),
    path("alliance/", views.alliance, name="alliance"),
    path("plan/<int:alliance_pk>/", views.plan, name="plan"),
    path("overview/", views.overview, name="overview"),
    path("programmes/", views.programmes, name="programmes"),
    path("programmes/<int:pk>/", views.programme, name="programme"),
    path("programmes/<int:pk>/tasks/<int:task_pk>/", views.programme_task, name="programme-task"),
]
