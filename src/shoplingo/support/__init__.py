"""Customer support: policies, conversations, reply drafts in the customer's language."""
