"""hotline-analytics: speech analytics for Vietnamese citizen hotlines.

The library: one module per stage, pure functions over the records in
:mod:`pipeline.records`. Nothing here imports Prefect; ``flows/`` wires these
stages into Prefect tasks.
"""

__version__ = "0.1.0"
