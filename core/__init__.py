"""The bottom layer: records, errors, settings and paths; it imports nothing of the project."""
