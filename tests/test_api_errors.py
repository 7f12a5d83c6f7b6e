from staffing.models import Teacher

from .factories_staffing import ExchangeFactory, TeacherFactory


def test_deleting_a_referenced_row_is_a_clear_400(api_as, bureau_staff, member_school, lead_school):
    # given a teacher with an exchange on record
    teacher = TeacherFactory(school=member_school)
    ExchangeFactory(teacher=teacher, hosts=[lead_school])
    # when the bureau deletes the teacher through the API
    response = api_as(bureau_staff).delete(f"/api/v1/teachers/{teacher.pk}/")
    # then the refusal says why, and the teacher stays
    assert response.status_code == 400
    assert response.json()["non_field_errors"][0]
    assert Teacher.objects.filter(pk=teacher.pk).exists()


def test_unknown_integrity_race_is_a_400_not_a_500(api_as, bureau_staff, county):
    # two requests racing for the same school code: the loser gets a message, not a crash
    payload = {"county": county.pk, "code": "DUP", "name": "甲", "stage": "primary", "location": "rural",
               "strength": "weak"}  # fmt: skip
    client = api_as(bureau_staff)
    assert client.post("/api/v1/schools/", payload, format="json").status_code == 201
    response = client.post("/api/v1/schools/", payload, format="json")
    assert response.status_code == 400
