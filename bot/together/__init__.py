"""Working together: team groups and their topics, requests across fields, absences."""
