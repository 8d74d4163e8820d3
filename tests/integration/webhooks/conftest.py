"""Webhooks fire on storefront publishes: the storefront's shop and raw-connection fixtures."""

from tests.integration.storefront.conftest import raw, shop

__all__ = ["raw", "shop"]
