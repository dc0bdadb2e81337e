"""People: faces found in photos, grouped into people and named by the user (all on this machine)."""
