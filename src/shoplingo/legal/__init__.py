"""The legal classifier: warranties, safety warnings, refund terms, compliance claims."""
