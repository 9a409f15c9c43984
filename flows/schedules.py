"""When the served deployments run by default. No Prefect import: the commands read these to
build their options, and ``hotline --help`` must not wait for Prefect to load."""

WEEKLY_REPORT_CRON = "0 7 * * 1"  # Mondays 07:00
WEEKLY_REPORT_TIMEZONE = "Asia/Ho_Chi_Minh"
