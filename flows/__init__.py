"""Prefect wiring: tasks call :mod:`pipeline` stages, flows order them."""
