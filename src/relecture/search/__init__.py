"""Search the catalog: parse a phrase into a `Query`, filter in DuckDB, rank, render.

Entry points: `parse_query(text, now, default_tz)`, `merge_flags(query, ...)`,
`describe(query)`, `search(catalog, query, limit)`, and `relecture.search.render`.
"""

from relecture.search.engine import Hit, SearchResult, TextEncoder, search
from relecture.search.query import Query, describe, merge_flags, parse_query
from relecture.search.query_time import TimeWindow

__all__ = ["Hit", "Query", "SearchResult", "TextEncoder", "TimeWindow", "describe",
           "merge_flags", "parse_query", "search"]
