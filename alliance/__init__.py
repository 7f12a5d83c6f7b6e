"""Counties, schools, school years, alliances and pairings, and who may see what.

The first step of the year: every other app imports from here, this app imports none of them.
"""
