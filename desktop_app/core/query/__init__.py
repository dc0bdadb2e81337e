"""Query: the search policy, what results show, files that are one shot, and near-duplicates."""
