"""Simplified Chinese is the default language: every model and field the admin shows has a
zh-hans name, and no two models look alike in the admin's menu."""

import re

import pytest
from django.apps import apps
from django.utils import translation

PORTAL_APPS = ("alliance", "staffing", "funding", "evaluation")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _models():
    return [m for m in apps.get_models() if m._meta.app_label in PORTAL_APPS]


@pytest.mark.parametrize("model", _models(), ids=lambda m: m._meta.label)
def test_model_and_field_names_are_translated(model):
    with translation.override("zh-hans"):
        names = [str(model._meta.verbose_name), str(model._meta.verbose_name_plural)]
        names += [
            str(f.verbose_name)
            for f in model._meta.get_fields()
            if getattr(f, "concrete", False) and f.editable and not f.auto_created and f.name != "id"
        ]
    untranslated = [n for n in names if not CJK.search(n)]
    assert untranslated == [], f"{model._meta.label}: no zh-hans name for {untranslated}"


def test_no_two_models_share_a_name_in_the_admin_menu():
    with translation.override("zh-hans"):
        plurals = [(str(m._meta.verbose_name_plural), m._meta.label) for m in _models()]
    seen: dict[str, str] = {}
    clashes = []
    for name, label in plurals:
        if name in seen:
            clashes.append((name, seen[name], label))
        seen[name] = label
    assert clashes == []
