"""Runs: the run book every flow keeps (pipeline/runs/book.py) and the one watch loop over a source."""
