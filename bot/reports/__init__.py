"""Reports for the admins: the /stats text and chart, the /export and /billing spreadsheets."""
