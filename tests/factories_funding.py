"""factory_boy factories for the funding models (ledger rows are made by the services only)."""

from decimal import Decimal

import factory

from funding.models import FundingQuota, FundingYear

from .factories import SchoolYearFactory


class FundingYearFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FundingYear

    school_year = factory.SubFactory(SchoolYearFactory)
    county = factory.SelfAttribute("school_year.county")
    base_quota = Decimal("200000.00")
    lead_share = Decimal("0.70")
    pool_share = Decimal("0.30")


class FundingQuotaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FundingQuota

    funding_year = factory.SubFactory(FundingYearFactory)
    quota = Decimal("200000.00")
