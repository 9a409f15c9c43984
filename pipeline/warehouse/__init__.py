"""The DuckDB warehouse: raw tables written only by the loader, views for reports."""
