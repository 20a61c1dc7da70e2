"""Working together: team groups with a topic per request, requests across fields, absences and cover."""
