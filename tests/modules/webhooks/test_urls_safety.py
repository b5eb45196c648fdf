"""Which URLs may receive webhooks: public http(s) hosts only, loopback only when the setting says."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from modules.webhooks.urls_safety import UnsafeURL, _is_this_host, check_url, refusal

REFUSED_ALWAYS = [
    ("file:///etc/passwd", "http:// or https://"),
    ("ftp://93.184.216.34/hook", "http:// or https://"),
    ("gopher://93.184.216.34/", "http:// or https://"),
    ("http://10.0.0.1/hook", "private"),
    ("http://192.168.1.1/hook", "private"),
    ("http://172.16.5.4/hook", "private"),
    ("http://169.254.169.254/latest/meta-data", "link-local"),
    ("http://0.0.0.0:8000/", "unspecified"),
    ("http://224.0.0.1/", "multicast"),
    ("http://100.64.0.1/", "non-public"),  # carrier-grade NAT
    ("http://[fe80::1]/", "link-local"),
    ("http://[fc00::1]/", "private"),
    ("http://[::ffff:10.0.0.1]/", "private"),  # IPv4-mapped IPv6 is the IPv4 address
    ("http://[2002:a00:1::]/", "private"),  # 6to4 tunnel into 10.0.0.1
    ("http://user:pw@93.184.216.34/hook", "credentials"),
    ("http://93.184.216.34/" + "a" * 2000, "at most 2000"),
    ("http://93.184.216.34/a b", "whitespace"),
    ("http:///nohost", "no host"),
    ("http://no-such-host.invalid/hook", "does not resolve"),
]
LOOPBACK = ["http://127.0.0.1:8080/hook", "http://[::1]/hook", "http://localhost/hook", "http://127.1.2.3/"]


@pytest.mark.parametrize(("url", "why"), REFUSED_ALWAYS)
def test_refused_whatever_the_loopback_setting(settings: Any, url: str, why: str) -> None:
    for allow in (False, True):
        settings.CODA_WEBHOOK_ALLOW_LOOPBACK = allow
        with pytest.raises(UnsafeURL, match=why):
            check_url(url)


@pytest.mark.parametrize("url", LOOPBACK)
def test_loopback_only_with_the_setting(settings: Any, url: str) -> None:
    settings.CODA_WEBHOOK_ALLOW_LOOPBACK = False
    with pytest.raises(UnsafeURL, match="loopback"):
        check_url(url)
    settings.CODA_WEBHOOK_ALLOW_LOOPBACK = True
    assert ipaddress.ip_address(check_url(url).address).is_loopback


def test_a_public_address_is_accepted_without_contacting_it(settings: Any) -> None:
    settings.CODA_WEBHOOK_ALLOW_LOOPBACK = False
    target = check_url("https://93.184.216.34:8443/hooks?x=1")
    assert target.address == "93.184.216.34"
    assert str(target.pinned_url) == "https://93.184.216.34:8443/hooks?x=1"


def test_names_are_judged_by_every_address_they_resolve_to(settings: Any, fake_dns: dict[str, str]) -> None:
    settings.CODA_WEBHOOK_ALLOW_LOOPBACK = False
    fake_dns["hooks.example.test"] = "93.184.216.34"
    target = check_url("https://hooks.example.test/coda")
    # The request goes to the checked address, under the URL's own name (Host header, TLS SNI).
    assert (target.address, target.host_header, target.server_name) == (
        "93.184.216.34",
        "hooks.example.test",
        "hooks.example.test",
    )
    fake_dns["hooks.example.test"] = "10.1.2.3"
    with pytest.raises(UnsafeURL, match=r"hooks\.example\.test \(10\.1\.2\.3\) is a private-network"):
        check_url("https://hooks.example.test/coda")


def test_this_hosts_own_addresses_are_refused() -> None:
    assert _is_this_host(ipaddress.ip_address("127.0.0.1"))
    assert not _is_this_host(ipaddress.ip_address("93.184.216.34"))
    assert refusal(ipaddress.ip_address("93.184.216.34")) is None
