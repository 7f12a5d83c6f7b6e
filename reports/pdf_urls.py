"""The PDF downloads, under ``/reports/pdf/`` (config/urls.py).
A school year is named by its id (``pk``, so a refused one is recorded as such)."""

from django.urls import path

from . import pdf_views

app_name = "reports_pdf"

urlpatterns = [
    path("<int:pk>/award-notices.pdf", pdf_views.award_notices, name="award_notices"),
    path("<int:pk>/summary.pdf", pdf_views.county_summary, name="county_summary"),
]
