"""A tenant's QA settings and the one inspection (glossary plus QA checks) a translation passes."""
