"""Where a webhook may point: the URL and address check when an endpoint is saved, and the
address check again before every delivery (private, loopback, link-local and other non-public
addresses are refused; the request then connects to the address that was checked, never to a
second DNS answer). An IPv6 address that carries an IPv4 one (IPv4-compatible, IPv4-mapped,
NAT64, 6to4) is judged by the IPv4 address: that is where a translating network sends it."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

import httpx

from shoplingo.core.errors import FieldError, ValidationFailed
from shoplingo.core.i18n import N_

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# RFC 6052 well-known NAT64 prefix: the IPv4 address is the last 32 bits
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# RFC 8215 local-use NAT64 prefix: where it leads is the local network's business
LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")
# deprecated IPv4-compatible addresses (::a.b.c.d); :: and ::1 fall in it and stay refused
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
# how long saving an endpoint waits for its name to resolve
RESOLVE_TIMEOUT_SECONDS = 5.0


def carried_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one embeds (mapped, 6to4, NAT64, compatible), else None."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64 or address in IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _forbidden(address: Address) -> bool:
    """An address a tenant must not reach through us: anything not on the public internet
    (private and shared networks such as carrier-grade NAT, where Alibaba Cloud's metadata
    service lives, loopback, link-local, reserved) and multicast."""
    carried = carried_ipv4(address)
    if carried is not None:
        return _forbidden(carried)
    if address in LOCAL_NAT64:
        return True
    return not address.is_global or address.is_multicast


async def _addresses(host: str) -> list[Address]:
    """The host's addresses (itself when it is one); OSError when the name does not resolve."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))


class UnusableTarget(Exception):
    """A delivery cannot go to the endpoint's URL (the message says why)."""


class TargetRefused(UnusableTarget):
    """The URL leads to a forbidden address, or cannot lead anywhere: never retried."""

    def __init__(
        self, reason: str = "the URL leads to a private, loopback or link-local address"
    ) -> None:
        super().__init__(f"refused: {reason}")


@dataclass(frozen=True, slots=True)
class PinnedTarget:
    """Where a delivery connects: the URL with its host replaced by an address checked once.
    The request names the original host (Host header, TLS server name and certificate check),
    but the name is not looked up again, so a DNS answer that changes between the check and
    the request (DNS rebinding) cannot point it at a forbidden address."""

    # one per address the name has, to try in turn (IPv6 may be broken where IPv4 works)
    urls: tuple[httpx.URL, ...]
    host_header: str
    server_name: str


async def pin_target(url: str, *, allow_private: bool) -> PinnedTarget:
    parsed = httpx.URL(url)
    host = parsed.raw_host.decode("ascii")
    try:
        addresses = await _addresses(host)
    except UnicodeError as exc:  # a label too long for DNS, say
        raise TargetRefused(f"the host name is not valid ({exc})") from exc
    except OSError as exc:
        raise UnusableTarget(f"the host name did not resolve: {exc}") from exc
    if not allow_private and any(map(_forbidden, addresses)):
        raise TargetRefused
    return PinnedTarget(
        urls=tuple(parsed.copy_with(host=str(address)) for address in addresses),
        host_header=parsed.netloc.decode("ascii"),
        server_name=host,
    )


def _valid_host(raw_host: bytes) -> bool:
    """An IP address, or a DNS name whose labels fit DNS (httpx accepts longer ones)."""
    host = raw_host.decode("ascii")
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        labels = host.rstrip(".").split(".")
        return len(host) <= 253 and all(0 < len(label) <= 63 for label in labels)


def checked_url(url: str) -> str:
    """``url`` when it can be an endpoint's (absolute http(s), a host DNS can carry); else
    ValidationFailed. Where it leads is checked by :func:`checked_target`."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        parsed = None
    if (
        parsed is None
        or parsed.scheme not in ("http", "https")
        or not parsed.host
        or not _valid_host(parsed.raw_host)
    ):
        raise ValidationFailed(
            errors=[
                FieldError(
                    field="url",
                    code="invalid_url",
                    message=N_("Give an absolute http(s) URL, e.g. https://shop.example/hooks."),
                )
            ]
        )
    return url


async def checked_target(url: str, *, allow_private: bool) -> str:
    """``url`` when it can be an endpoint's and leads to no forbidden address now; else
    ValidationFailed naming ``url``. A name that does not resolve (yet) is accepted: each
    delivery looks it up and checks it again (:func:`pin_target`)."""
    url = checked_url(url)
    if allow_private:
        return url
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
            await pin_target(url, allow_private=False)
    except TargetRefused as exc:
        raise ValidationFailed(
            errors=[
                FieldError(
                    field="url",
                    code="target_not_allowed",
                    message=N_(
                        "This URL leads to an address off the public internet (private, "
                        "loopback, link-local or reserved); webhooks go only to public addresses."
                    ),
                )
            ]
        ) from exc
    except (UnusableTarget, TimeoutError):
        pass
    return url
