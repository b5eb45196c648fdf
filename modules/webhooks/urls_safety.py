"""Which URLs may receive webhooks: public http(s) hosts only (no SSRF into our own network).

Checked when an endpoint is registered and again before every attempt, because DNS may change;
the attempt then connects to the very address that passed (no second lookup to rebind).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

import httpx
from django.conf import settings

MAX_URL_LENGTH = 2000
SCHEMES = {"http", "https"}
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeURL(ValueError):
    """The URL may not receive webhooks; the message says why."""


@dataclass(frozen=True)
class Target:
    """A URL that passed, and the address to connect to."""

    url: httpx.URL
    address: str

    @property
    def pinned_url(self) -> httpx.URL:
        """The URL with its host replaced by the checked address (Host and SNI keep the name)."""
        return self.url.copy_with(host=self.address)

    @property
    def host_header(self) -> str:
        return self.url.netloc.decode("ascii")

    @property
    def server_name(self) -> str:
        return self.url.raw_host.decode("ascii")


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address a tunnelling IPv6 one carries (6to4, Teredo, NAT64), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _is_this_host(address: IPAddress) -> bool:
    """True when the address belongs to this machine: only then can a socket bind to it."""
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind((str(address), 0))
    except OSError:
        return False
    return True


def refusal(address: IPAddress) -> str | None:
    """Why this address may not receive webhooks, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return refusal(address.ipv4_mapped)  # ::ffff:a.b.c.d is a.b.c.d
    embedded = _embedded_ipv4(address)
    if embedded is not None and (reason := refusal(embedded)) is not None:
        return reason  # a tunnel into a private network is that network
    if address.is_loopback:
        return None if settings.CODA_WEBHOOK_ALLOW_LOOPBACK else "a loopback address (this host)"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private:
        return "a private-network address"
    if address.is_reserved or not address.is_global:
        return "a reserved, non-public address"
    if _is_this_host(address):
        return "an address of this host"
    return None


def check_url(url: str) -> Target:
    """The target of a webhook URL, or UnsafeURL saying what to change."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURL(f"the URL is {len(url)} characters long; at most {MAX_URL_LENGTH} are allowed")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise UnsafeURL("the URL contains whitespace or control characters")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as error:
        raise UnsafeURL(f"not a valid URL: {error}") from None
    if parsed.scheme not in SCHEMES:
        raise UnsafeURL(f"the URL must start with http:// or https://, not {parsed.scheme or '(none)'}:")
    if parsed.userinfo:
        raise UnsafeURL("the URL must not carry credentials (user:password@); the signature authenticates us")
    if not parsed.raw_host:
        raise UnsafeURL("the URL has no host")
    host = parsed.raw_host.decode("ascii")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise UnsafeURL(f"the host {parsed.host} does not resolve") from None
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        text = str(sockaddr[0]).split("%", 1)[0]  # drop an IPv6 zone index
        if text not in addresses:
            addresses.append(text)
    if not addresses:
        raise UnsafeURL(f"the host {parsed.host} does not resolve")
    # Every address must pass, or a resolver could hand out the unsafe one at delivery time.
    for text in addresses:
        reason = refusal(ipaddress.ip_address(text))
        if reason is not None:
            shown = parsed.host if parsed.host == text else f"{parsed.host} ({text})"
            raise UnsafeURL(f"{shown} is {reason}: webhooks are delivered to public hosts only")
    return Target(url=parsed, address=addresses[0])
