"""The one place an ``openai.AsyncOpenAI`` client is built from the settings."""

from __future__ import annotations

import openai

from shoplingo.settings import Settings

DASHSCOPE_INTL_BASE_URL = "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"
PSEUDO_BASE_URL = "http://127.0.0.1:8090/v1"
PROVIDERS = ("qwen-mt", "chat", "pseudo")
# Local servers (the fake one, vLLM, Ollama) ignore the key, but the client insists on one.
PLACEHOLDER_API_KEY = "unused"


def resolve_provider(settings: Settings) -> str:
    """``llm_provider``, else ``pseudo`` without an API key and ``qwen-mt`` with one."""
    name = settings.llm_provider.strip().lower()
    if not name:
        return "qwen-mt" if settings.resolved_llm_api_key else "pseudo"
    if name not in PROVIDERS:
        raise ValueError(f"unknown llm_provider {name!r} (expected one of {', '.join(PROVIDERS)})")
    return name


def resolve_base_url(settings: Settings) -> str:
    if settings.llm_base_url:
        return settings.llm_base_url
    return PSEUDO_BASE_URL if resolve_provider(settings) == "pseudo" else DASHSCOPE_INTL_BASE_URL


def create_client(settings: Settings) -> openai.AsyncOpenAI:
    """A client that never retries by itself: :mod:`shoplingo.llm.policy` decides."""
    base_url = resolve_base_url(settings)
    api_key = settings.resolved_llm_api_key
    if not api_key and "dashscope" in base_url:
        raise ValueError(
            "DashScope needs an API key: set SHOPLINGO_LLM_API_KEY or DASHSCOPE_API_KEY "
            "(or SHOPLINGO_LLM_PROVIDER=pseudo for the offline fake server)"
        )
    return openai.AsyncOpenAI(
        api_key=api_key or PLACEHOLDER_API_KEY,
        base_url=base_url,
        timeout=settings.llm_timeout_seconds,
        max_retries=0,
    )
