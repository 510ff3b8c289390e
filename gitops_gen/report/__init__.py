"""Output formats, by name: results are values (problems, a fleet diff, an explanation) and a
reporter turns one into text. Each module holds one registry (``REPORTERS``), a dict from the
``--format`` name to the function; the CLI builds its choices from those keys.

These modules import nothing heavy at the top: the CLI reads the names when it starts.
"""
