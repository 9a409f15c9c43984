"""Model adapters (ASR, diarizer, topic classifier) and the artifacts the product ships.

Nothing in this package imports Prefect; of :mod:`pipeline` it uses only the pure
records, errors and text normalisation.
"""
