"""The portal: server-rendered pages for principals (on a phone first), assessors, bureau staff
and auditors.

Its own app because its pages sit on top of all the others: a principal's home reads
alliances, exchanges, plans and results at once, and the apps' imports point one way
(evaluation → funding, staffing → alliance), so no one of them may hold pages that import the
rest. It has no models: it owns no data, only forms and views over the other apps' services,
with every row read through the access checkpoint (``alliance.access``).
"""
