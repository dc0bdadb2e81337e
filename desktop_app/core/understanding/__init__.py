"""Query understanding: dates, places and kinds of file read out of a typed query as filters.

``parse.understand`` splits a query; ``records`` holds what crosses to the window (chips);
``apply`` is the search policy's part (filters, fallback, date order); ``geodata`` resolves GPS
coordinates offline to a city, region and country.
"""
