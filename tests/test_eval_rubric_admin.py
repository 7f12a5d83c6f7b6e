"""A rubric's structure edited in the admin goes through the rubric services: 100 points in
total, unique codes, a locked rubric read-only, the content hash recomputed; a refused edit
shows the service's message beside the field (or above the rows) and writes nothing."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.test import Client
from django.urls import reverse

from evaluation import services
from evaluation.compute import rubric_hash
from evaluation.models import Dimension, Indicator, Rubric

from .factories_evaluation import enter


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def client_of():
    def login(user):
        client = Client()
        client.force_login(user)
        return client

    return login


def form_data(response) -> dict:
    """What the change form would post back unchanged: the main form and every inline row."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        forms += [f for f in formset.forms if f.instance.pk]
        data[management.add_prefix("TOTAL_FORMS")] = len([f for f in formset.forms if f.instance.pk])
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if name == "DELETE" or value is None:
                continue
            data[form.add_prefix(name)] = value
    return data


def dimension_url(dimension):
    return reverse("admin:evaluation_dimension_change", args=[dimension.pk])


def rubric_url(rubric):
    return reverse("admin:evaluation_rubric_change", args=[rubric.pk])


def indicator_row(data, code) -> str:
    """The form prefix of the indicator row with this code."""
    return next(k for k, v in data.items() if k.endswith("-code") and k.startswith("indicators-") and v == code)[:-5]


def snapshot(rubric):
    rubric.refresh_from_db()
    rows = Indicator.objects.filter(dimension__rubric=rubric).order_by("pk").values_list("pk", "code", "max_points")
    return rubric.content_hash, list(rows), list(rubric.dimensions.values_list("pk", "code", "name"))


def test_points_60_to_55_are_refused_with_the_services_message(bureau_staff, simple_rubric, client_of):
    # given the rubric's main dimension (quality 60 + care 40) open in the admin
    client = client_of(bureau_staff)
    dimension = simple_rubric.dimensions.get()
    page = client.get(dimension_url(dimension))
    data = form_data(page)
    before = snapshot(simple_rubric)
    # when quality's points go 60 → 55 and the page is saved
    data[indicator_row(data, "quality") + "-max_points"] = "55"
    response = client.post(dimension_url(dimension), data)
    # then the page comes back with the service's message, and nothing is written
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.non_form_errors() == ["The indicators' max points add up to 95.00; they must add up to 100."]
    assert snapshot(simple_rubric) == before
    assert services.rubric_problems(simple_rubric) == []


def test_a_balanced_change_is_written_in_place_and_rehashed(bureau_staff, simple_rubric, client_of):
    client = client_of(bureau_staff)
    dimension = simple_rubric.dimensions.get()
    data = form_data(client.get(dimension_url(dimension)))
    ids_before = set(Indicator.objects.filter(dimension=dimension).values_list("pk", flat=True))
    hash_before = simple_rubric.content_hash
    # when quality goes 60 → 50 and care 40 → 50
    data[indicator_row(data, "quality") + "-max_points"] = "50"
    data[indicator_row(data, "care") + "-max_points"] = "50"
    response = client.post(dimension_url(dimension), data)
    # then it is saved: the same rows, the new points, the hash recomputed
    assert response.status_code == 302, response.context and response.context["errors"]
    rubric = Rubric.objects.get(pk=simple_rubric.pk)
    assert set(Indicator.objects.filter(dimension=dimension).values_list("pk", flat=True)) == ids_before
    assert dict(Indicator.objects.filter(dimension=dimension).values_list("code", "max_points")) == {
        "quality": D("50.00"),
        "care": D("50.00"),
    }
    assert rubric.content_hash != hash_before
    assert rubric.content_hash == rubric_hash(
        Rubric.objects.prefetch_related("dimensions__indicators").get(pk=rubric.pk)
    )


def test_a_code_used_twice_is_shown_beside_the_code(bureau_staff, simple_rubric, client_of):
    client = client_of(bureau_staff)
    dimension = simple_rubric.dimensions.get()
    data = form_data(client.get(dimension_url(dimension)))
    before = snapshot(simple_rubric)
    care = indicator_row(data, "care")
    data[care + "-code"] = "quality"
    response = client.post(dimension_url(dimension), data)
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    row = next(f for f in formset.forms if f.prefix == care)
    assert row.errors["code"] == ["Indicator code “quality” is used twice."]
    assert snapshot(simple_rubric) == before


def test_a_single_row_error_is_the_models_once(bureau_staff, simple_rubric, client_of):
    client = client_of(bureau_staff)
    dimension = simple_rubric.dimensions.get()
    data = form_data(client.get(dimension_url(dimension)))
    data[indicator_row(data, "care") + "-metric_key"] = "exchange_days_sent"  # a manual indicator names no metric
    response = client.post(dimension_url(dimension), data)
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert [f.errors for f in formset.forms if f.errors] == [
        {"metric_key": ["Only a computed indicator names a metric."]}
    ]
    assert formset.non_form_errors() == []


def test_deleting_a_dimension_on_the_rubric_page_is_refused(bureau_staff, school_year, client_of):
    structure = [
        {"code": "a", "name": "甲", "indicators": [{"code": "q", "name": "q", "max_points": D(60), "method": "manual",
                                                     "rule_params": {"target": "100"}}]},
        {"code": "b", "name": "乙", "indicators": [{"code": "c", "name": "c", "max_points": D(40), "method": "manual",
                                                     "rule_params": {"target": "100"}}]},
    ]  # fmt: skip
    rubric = services.rubric_create(actor=bureau_staff, county=school_year.county, school_year=school_year,
                                    structure=structure)  # fmt: skip
    client = client_of(bureau_staff)
    data = form_data(client.get(rubric_url(rubric)))
    before = snapshot(rubric)
    second = next(k for k, v in data.items() if k.startswith("dimensions-") and k.endswith("-code") and v == "b")
    data[second[:-5] + "-DELETE"] = "on"
    response = client.post(rubric_url(rubric), data)
    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.non_form_errors() == [
        "The indicators' max points add up to 60.00; they must add up to 100."
    ]
    assert snapshot(rubric) == before
    # and a dimension code used twice is shown beside that code
    data.pop(second[:-5] + "-DELETE")
    data[second] = "a"
    response = client.post(rubric_url(rubric), data)
    formset = response.context["inline_admin_formsets"][0].formset
    assert [f.errors for f in formset.forms if f.errors] == [{"code": ["Dimension code “a” is used twice."]}]
    assert snapshot(rubric) == before


def test_settings_change_on_the_rubric_page_goes_through_the_service(bureau_staff, simple_rubric, client_of):
    client = client_of(bureau_staff)
    data = form_data(client.get(rubric_url(simple_rubric)))
    data["beta"] = "1.5"
    response = client.post(rubric_url(simple_rubric), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"beta": ["β must be between 0 and 1."]}
    data["beta"] = "0.25"
    data["name"] = "新方案"
    response = client.post(rubric_url(simple_rubric), data)
    assert response.status_code == 302
    rubric = Rubric.objects.get(pk=simple_rubric.pk)
    assert (rubric.beta, rubric.name) == (D("0.25"), "新方案")
    assert rubric.content_hash != simple_rubric.content_hash  # β is part of the content


def test_a_locked_rubric_is_read_only_and_revised_into_a_new_version(
    bureau_staff, simple_rubric, year_period, member_school, client_of
):
    enter(bureau_staff, year_period, simple_rubric, member_school, quality=80)  # locks the rubric
    client = client_of(bureau_staff)
    dimension = simple_rubric.dimensions.get()
    page = client.get(dimension_url(dimension))
    assert 'name="_save"' not in page.content.decode()
    assert client.post(dimension_url(dimension), {"name": "x"}).status_code == 403
    response = client.post(
        reverse("admin:evaluation_rubric_changelist"),
        {"action": "revise", "_selected_action": [simple_rubric.pk]},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == ["1 of 1 rubrics got a new version."]
    assert Rubric.objects.filter(county=simple_rubric.county, school_year=simple_rubric.school_year).count() == 2


def test_a_rubric_added_without_dimensions_starts_from_the_default(bureau_staff, school_year, client_of):
    client = client_of(bureau_staff)
    url = reverse("admin:evaluation_rubric_add")
    data = form_data(client.get(url))
    data.update({"county": school_year.county_id, "school_year": school_year.pk, "name": "方案"})
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    rubric = Rubric.objects.get(school_year=school_year)
    assert rubric.dimensions.count() == 7
    assert services.rubric_problems(rubric) == []
    assert rubric.content_hash


def test_rubric_problems_names_what_keeps_a_saved_rubric_from_scoring(simple_rubric):
    Indicator.objects.filter(dimension__rubric=simple_rubric, code="quality").update(max_points=D(55))
    Dimension.objects.filter(rubric=simple_rubric).update(name="主维度")
    rubric = Rubric.objects.get(pk=simple_rubric.pk)
    assert services.rubric_problems(rubric) == ["The indicators' max points add up to 95.00; they must add up to 100."]


def test_a_dimension_is_deleted_only_on_its_rubrics_page(bureau_staff, simple_rubric, client_of):
    client = client_of(bureau_staff)
    dimension = simple_rubric.dimensions.get()
    url = reverse("admin:evaluation_dimension_delete", args=[dimension.pk])
    response = client.post(url, {"post": "yes"})
    assert response.status_code == 302 and response["Location"] == rubric_url(simple_rubric)
    assert Dimension.objects.filter(pk=dimension.pk).exists()
