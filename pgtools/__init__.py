"""PostgreSQL-specific data tools shared by the apps: ``COPY`` writes of many derived rows
(``bulk``), parallel reads in one exported snapshot (``snapshots``), and query helpers for
large id lists and fast row fetching (``querysets``: ``AnyOf``, ``tuples``).

They live apart from every app because they are about the database, not the domain: any app
may use them, and they import none of ours. There are no models here; this is a plain Python
package, not a Django app. The project runs on PostgreSQL only, so they have no portable
fallbacks.
"""
