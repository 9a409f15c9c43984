"""Model adapters (ASR, diarizer, topic classifier) and the artifacts the product ships.

Nothing in this package imports Prefect or :mod:`pipeline`.
"""
