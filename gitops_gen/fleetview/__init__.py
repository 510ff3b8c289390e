"""Fleet views: the capacity ledger, the version matrix, their renderers, and node snapshots.

Pure functions over a ``FleetView`` (``collect.collect``): the inventory plus every enabled
app's rendered objects per cluster. Nothing here prints; the CLI modules do.
"""
