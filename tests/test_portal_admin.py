"""The admin for bureau staff: the index grouped by the bureau's work, the schedules last."""

from __future__ import annotations

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_admin_index_is_grouped_by_the_bureaus_work_with_the_schedules_last(bureau_staff, admin_user):
    for user in (bureau_staff, admin_user):
        # given a bureau user (and a superuser, who sees every model)
        client = Client()
        client.force_login(user)

        # when it opens the admin's index
        page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

        # then the headings are the bureau's work, in order, the job schedules last
        headings = re.findall(r'class="section"[^>]*>([^<]+)</a>', page)
        assert headings[:3] == ["学校与校联体", "交流与活动", "经费"], headings
        assert headings[-1] == "计划任务"
        assert "评价" in headings and "督导" in headings


def test_the_celery_and_nightly_schedules_share_the_last_heading(admin_user):
    client = Client()
    client.force_login(admin_user)

    response = client.get("/admin/")

    last = response.context["app_list"][-1]
    labels = {m["model"]._meta.label for m in last["models"]}
    assert "django_celery_beat.PeriodicTask" in labels and "evaluation.NightlySchedule" in labels
    assert all(app["models"] for app in response.context["app_list"])


def test_an_apps_own_page_still_lists_its_models(admin_user):
    client = Client()
    client.force_login(admin_user)

    response = client.get("/admin/funding/")

    assert response.status_code == 200
    assert [app["app_label"] for app in response.context["app_list"]] == ["funding"]
