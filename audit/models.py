"""The trail's two tables. Both are append-only in PostgreSQL (migration ``0002_triggers``):
records are inserted by the capture trigger or by ``services.record_event``, seals by
``chain.seal`` alone; neither is ever updated or deleted."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .querysets import AuditRecordQuerySet


class AuditRecord(models.Model):
    class Action(models.TextChoices):
        INSERT = "insert", _("Insert")
        UPDATE = "update", _("Update")
        DELETE = "delete", _("Delete")
        LOGIN = "login", _("Signed in")
        LOGIN_FAILED = "login_failed", _("Failed sign-in")
        EXPORT = "export", _("Export")
        IMPORT = "import", _("Import")
        REFUSED = "refused", _("Refused access")

    at = models.DateTimeField(_("when"), db_index=True)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    # "app_label.model_name" of the row (for an M2M link, of its through table).
    model = models.CharField(_("model"), max_length=100, blank=True)  # indexed with object_id
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    # Copied in, not foreign keys: the record outlives the user, the school and the county.
    # Indexes cost every write: the county's (the readers' scope), the time's, the object's.
    user_id = models.BigIntegerField(_("user id"), null=True, blank=True)
    username = models.CharField(_("username"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=32, blank=True)
    county_id = models.BigIntegerField(_("county id"), null=True, blank=True, db_index=True)
    school_id = models.BigIntegerField(_("school id"), null=True, blank=True)
    client_addr = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    source = models.CharField(_("request or command"), max_length=300, blank=True)
    # The database session's role and application: a row written from psql says so.
    db_user = models.CharField(_("database user"), max_length=100, blank=True)
    txid = models.BigIntegerField(_("transaction"), null=True, blank=True)

    objects = AuditRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit record")
        verbose_name_plural = _("audit records")
        ordering = ["-id"]
        indexes = [models.Index(fields=["model", "object_id"], name="audit_record_object")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.model} {self.object_id}".strip()

    def changes(self) -> list[tuple[str, object, object]]:
        """(field, before, after) for every field whose value differs (all of them for an
        insert or a delete)."""
        before, after = self.before or {}, self.after or {}
        keys = list(after) + [k for k in before if k not in after]
        both = bool(self.before) and bool(self.after)
        return [(k, before.get(k), after.get(k)) for k in keys if not both or before.get(k) != after.get(k)]


class AuditSeal(models.Model):
    """The chain: seal ``seq`` covers one record, its hash = HMAC-SHA256(key, previous hash ‖
    the record's canonical content). Sealed in blocks by ``chain.seal`` (``manage.py
    seal_audit``, every minute from Celery beat), in the order the records are sealed."""

    seq = models.BigIntegerField(_("sequence"), primary_key=True)
    # A plain column, no foreign key: a record deleted behind the triggers' back must leave
    # its seal for verify_audit to find.
    record_id = models.BigIntegerField(_("record"), unique=True)
    hash = models.CharField(_("hash"), max_length=64)
    sealed_at = models.DateTimeField(_("sealed at"))

    class Meta:
        verbose_name = _("audit seal")
        verbose_name_plural = _("audit seals")
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"{self.seq}: {self.hash[:12]}"
