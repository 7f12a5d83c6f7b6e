"""The demo county (``python manage.py load_demo``).

Its own app because the demo data spans every other app (schools, exchanges, funding,
evaluation) and imports them all; nothing imports it, so it sits on top of the dependency
order and the apps below stay free of demo code.
"""
