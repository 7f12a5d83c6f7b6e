"""The API's pagination (``DEFAULT_PAGINATION_CLASS``). DRF's settings import it while
``rest_framework.generics`` loads, so it must not import views or generics itself.

A county's lists are mostly shorter than a page: the rows of the page are read first, and when
they are the last page the total is known without the ``COUNT(*)`` query DRF would run first;
a list read as values (``alliance.listing``) carries its total in every row, so it needs no
``COUNT(*)`` on an earlier page either."""

from __future__ import annotations

from django.core.paginator import Paginator
from rest_framework.pagination import PageNumberPagination

from .listing import TOTAL

# PostgreSQL's OFFSET is a bigint: a page whose first row lies beyond it cannot be read, and
# Django's own path (a COUNT(*), then "that page contains no results") answers it.
LARGEST_OFFSET = 2**63 - 1


class LastPageCountPaginator(Paginator):
    def page(self, number):
        try:
            index = int(number)
        except (TypeError, ValueError):
            return super().page(number)  # Django's own message for a page that is not a number
        bottom = (index - 1) * self.per_page
        if index >= 1 and bottom <= LARGEST_OFFSET and "count" not in self.__dict__:
            rows = list(self.object_list[bottom : bottom + self.per_page + 1])
            if len(rows) <= self.per_page and (rows or index == 1):
                # The last page (or an empty first one): the total is what came before it plus it.
                self.count = bottom + len(rows)
                return self._get_page(rows, index, self)
            if rows and isinstance(rows[0], dict) and TOTAL in rows[0]:
                # More follow, and each row says how many rows the list has (alliance.listing).
                self.count = rows[0][TOTAL]
                self.validate_number(index)
                return self._get_page(rows[: self.per_page], index, self)
            if rows:
                # More follow: the total needs its COUNT(*), the page's rows are read already.
                self.validate_number(index)
                return self._get_page(rows[: self.per_page], index, self)
        return super().page(number)


class PortalPagination(PageNumberPagination):
    django_paginator_class = LastPageCountPaginator
