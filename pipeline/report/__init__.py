"""Reports, case reports, exports and charts for managers."""
