from __future__ import annotations

from typing import Any

from django.db import models

from alliance import access


class AuditRecordQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> AuditRecordQuerySet:
        """Superusers read the whole trail; bureau staff and auditors the records of their
        county (made by its users, or of rows that carry that county); nobody else any."""
        if access.is_superuser(user):
            return self
        if access.is_county_reader(user) and user.county_id:
            return self.filter(county_id=user.county_id)
        return self.none()
