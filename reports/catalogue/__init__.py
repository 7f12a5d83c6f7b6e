"""Every report, one module per subject; importing the package registers them
(``ReportsConfig.ready``)."""

from . import audit_trail, evaluation, funding, staffing

__all__ = ["audit_trail", "evaluation", "funding", "staffing"]
