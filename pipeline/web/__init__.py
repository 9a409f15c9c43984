"""Web app for QA review and manager dashboards (FastAPI); see docs/web.md."""
