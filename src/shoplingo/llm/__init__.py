"""LLM access: client factory, retry policy and the offline fake server."""
