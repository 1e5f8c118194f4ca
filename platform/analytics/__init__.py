"""Platform analytics: the figures HQ decides on, as of month ends, and their snapshots.

The kernel's one package that reads across the wings' tables. It never imports ``hq``
or ``chapter``: it reads their tables from the metadata with Core SQL, adding the
chapter predicates itself (Core statements are not tenant-filtered).
"""
