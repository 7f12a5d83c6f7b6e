"""Reports for auditors, the bureau and principals: one function per report, formats apart.

A home of its own because a report reads across every app (ledger, plans, exchanges,
activities, results, the audit trail) and no lower app may import the others; formatters
(CSV, XLSX, PDF) and the auditor's package are the same for every report."""
