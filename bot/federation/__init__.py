"""The member federation: its envelopes, statements and approvers' questions."""
