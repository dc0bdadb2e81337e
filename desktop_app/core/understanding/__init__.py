"""Query understanding: dates, places and kinds of file read out of a typed query as filters.

``parse.understand`` splits a query; ``records`` holds what crosses to the window (chips);
``geodata`` resolves GPS coordinates offline to a city, region and country. Plain parsing over
the core's records only: the layer under storage. The search policy's use of it (filters,
fallback, date order) is ``query.understood``.
"""
