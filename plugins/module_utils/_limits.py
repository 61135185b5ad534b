# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module util is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

"""The documented limits of the values the modules send (names, descriptions, bandwidth, tags, address counts).

Checked before any call, in check mode and in a real run alike, so that a value the API documents as invalid is
refused with a message that names the option and the fix instead of being sent and refused by the cloud.  Every
check raises :class:`LimitError`; the callers turn it into their own ``InputError``.

Sources (``../shared/reference/alibaba-api.md`` unless stated):

- EIP name 1-128 characters (§3.5 AllocateEipAddress, §3.8 ModifyEipAddressAttribute), not ``http(s)://`` (the SDK
  7.2.2 docstrings).  UNCONFIRMED: the SDK 7.2.2 docstrings say 0-128, the reference 1-128; an empty name is
  [fid:eip-name-limits]
  refused (the stricter reading, also the issue's).
- EIP description 2-256 characters, starting with a letter, not ``http(s)://`` (§3.8; §3.5 gives 2-256).
  UNCONFIRMED: the SDK 7.2.2 docstrings say 0-256 without the letter rule; the reference's rule is kept (the
  [fid:eip-name-limits]
  emulator enforces the same).
- EIP bandwidth in Mbit/s (§3.5, §3.8): pay-as-you-go PayByBandwidth 1-500, PayByTraffic 1-200, subscription
  1-1000.  The reference gives no per-ISP range.
- ENI name 2-128 characters (§8.4).  The ECS SDK docstring also lists allowed characters (UNCONFIRMED, not
  [fid:eni-name-charset]
  checked: the reference gives only the length).
- ENI description 2-256 characters, not ``http(s)://`` (the ECS SDK 7.11.8 docstring of CreateNetworkInterface;
  the reference names the parameter without a rule).
- Secondary private IPs (§8.2, §8.4): SecondaryPrivateIpAddressCount 1-49, at most 49 secondary addresses while an
  ENI is Available, PrivateIpAddress.N 0-10 on CreateNetworkInterface and 1-50 on AssignPrivateIpAddresses.
- EIP line type (ISP): the values of the SDK 7.2.2 docstring of AllocateEipAddress (the reference lists "BGP, BGP_PRO,
  ..."); the single-ISP types need a whitelist, which only the cloud knows.
- Tags (the SDK docstrings of AllocateEipAddress, TagResources and CreateNetworkInterface; §3.4 "up to 20"): at most
  20; a key is 1-128 characters, does not start with ``aliyun`` or ``acs:`` and contains no ``http://`` or
  ``https://``; a value is at most 128 characters and contains no ``http(s)://``; a VPC (EIP) value also does not
  start with ``aliyun`` or ``acs:`` (the ECS docstring has no such rule for ENI values).  A value is text: a dict or
  a list given as a value is refused instead of being stringified.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

URL_PREFIXES = ("http://", "https://")
SYSTEM_TAG_PREFIXES = ("aliyun", "acs:")
MAX_TAGS = 20
MAX_TAG_TEXT = 128

EIP_NAME = (1, 128)
EIP_DESCRIPTION = (2, 256)
ENI_NAME = (2, 128)
ENI_DESCRIPTION = (2, 256)

ISPS = (
    "BGP",
    "BGP_PRO",
    "ChinaTelecom",
    "ChinaUnicom",
    "ChinaMobile",
    "ChinaTelecom_L2",
    "ChinaUnicom_L2",
    "ChinaMobile_L2",
    "BGP_FinanceCloud",
)

# Bandwidth ceilings in Mbit/s by (ChargeType, InternetChargeType); the floor is 1.
BANDWIDTH_LIMITS = {
    ("PostPaid", "PayByBandwidth"): 500,
    ("PostPaid", "PayByTraffic"): 200,
}
PREPAID_BANDWIDTH_LIMIT = 1000
# The defaults of AllocateEipAddress: a new EIP is PayByBandwidth; a recovered one PayByTraffic (alibaba-api.md §3.5;
# the console guide "Recover a released EIP").
ALLOCATION_INTERNET_CHARGE_TYPE = "PayByBandwidth"
RECOVERY_INTERNET_CHARGE_TYPE = "PayByTraffic"

MAX_SECONDARY_IPS = 49  # SecondaryPrivateIpAddressCount 1-49; at most 49 secondary addresses per ENI
MAX_CREATE_LISTED_IPS = 10  # CreateNetworkInterface PrivateIpAddress.N 0-10
MAX_ASSIGN_LISTED_IPS = 50  # AssignPrivateIpAddresses PrivateIpAddress.N 1-50


class LimitError(ValueError):
    """A value outside what the API documents; the message names the option and the fix."""


def check_text(
    option: str,
    value: Any,
    bounds: tuple[int, int],
    starts_with_letter: bool = False,
) -> None:
    """``value`` (when given) is text of ``bounds`` characters, not a URL, optionally starting with a letter."""
    if value is None:
        return
    if not isinstance(value, str):
        raise LimitError(f"{option}: {value!r} is not text; give a string")
    low, high = bounds
    if not low <= len(value) <= high:
        fix = "lengthen it" if len(value) < low else "shorten it"
        raise LimitError(f"{option}: {len(value)} characters given; it must be {low} to {high} characters; {fix}")
    if value.startswith(URL_PREFIXES):
        raise LimitError(f"{option}: {value[:40]!r} starts with http:// or https://, which the API refuses; reword it")
    if starts_with_letter and not value[0].isalpha():
        raise LimitError(f"{option}: {value[:40]!r} must start with a letter; put a word first")


def check_eip_name(value: Any, option: str = "name") -> None:
    check_text(option, value, EIP_NAME)


def check_eip_description(value: Any, option: str = "description") -> None:
    check_text(option, value, EIP_DESCRIPTION, starts_with_letter=True)


def check_eni_name(value: Any, option: str = "name") -> None:
    check_text(option, value, ENI_NAME)


def check_eni_description(value: Any, option: str = "description") -> None:
    check_text(option, value, ENI_DESCRIPTION)


def check_isp(value: str | None, option: str = "isp") -> None:
    """``value`` (when given) is a documented line type."""
    if value is not None and value not in ISPS:
        raise LimitError(
            f"{option}: {value!r} is not a line type of the API; use one of {', '.join(ISPS)} (BGP is the default; "
            "BGP_PRO only in some regions, the single-ISP types only for accounts on their whitelist)"
        )


def bandwidth_limit(internet_charge_type: str | None, charge_type: str | None = "PostPaid") -> int:
    """The highest bandwidth the API documents for the billing of an EIP."""
    if charge_type == "PrePaid":
        return PREPAID_BANDWIDTH_LIMIT
    return BANDWIDTH_LIMITS.get(("PostPaid", internet_charge_type or ALLOCATION_INTERNET_CHARGE_TYPE), 500)


def check_bandwidth(
    value: int | None,
    internet_charge_type: str | None,
    charge_type: str | None = "PostPaid",
    option: str = "bandwidth",
    whose: str = "",
    existing: bool = False,
) -> None:
    """``value`` Mbit/s (when given) within 1 and the ceiling of the billing; ``whose`` says which EIP it is
    (``existing``: one allocated already, whose metering method stays)."""
    if value is None:
        return
    if value < 1:
        raise LimitError(f"{option}: {value} Mbit/s given; the bandwidth must be at least 1 Mbit/s")
    ceiling = bandwidth_limit(internet_charge_type, charge_type)
    if value > ceiling:
        billing = "subscription" if charge_type == "PrePaid" else f"pay-as-you-go {internet_charge_type}"
        subject = f" of {whose}" if whose else ""
        fix = "give at most that"
        if charge_type != "PrePaid" and internet_charge_type == "PayByTraffic" and not existing:
            fix += " (or allocate the EIP with internet_charge_type=PayByBandwidth, up to 500 Mbit/s)"
        raise LimitError(
            f"{option}: {value} Mbit/s given; the {billing} billing{subject} allows 1 to {ceiling} Mbit/s; {fix}"
        )


def check_tags(tags: Mapping[Any, Any] | None, option: str = "tags", vpc_values: bool = True) -> None:
    """The documented tag rules (see the module docstring); ``vpc_values`` adds the VPC rule on value prefixes."""
    if tags is None:
        return
    if len(tags) > MAX_TAGS:
        raise LimitError(f"{option}: {len(tags)} tags given; a resource takes at most {MAX_TAGS}; drop some")
    for key, value in tags.items():
        text = str(key)
        where = f"{option}.{text}"
        if not text:
            raise LimitError(f"{option}: a tag key is empty; give every tag a key")
        if len(text) > MAX_TAG_TEXT:
            raise LimitError(f"{option}: the key {text[:40]!r}... has {len(text)} characters; at most {MAX_TAG_TEXT}")
        if text.startswith(SYSTEM_TAG_PREFIXES):
            raise LimitError(
                f"{option}: the key {text!r} is reserved by Alibaba Cloud (acs: and aliyun prefixes); rename it"
            )
        if "http://" in text or "https://" in text:
            raise LimitError(f"{option}: the key {text!r} contains http:// or https://, which the API refuses")
        if isinstance(value, (Mapping, list, tuple, set)):
            kind = "a dict" if isinstance(value, Mapping) else "a list"
            raise LimitError(
                f"{where}: the value is {kind}; a tag value is text - give a string (serialize it with the "
                "to_json filter, or use one tag per item)"
            )
        if value is None:
            continue
        value_text = str(value)
        if len(value_text) > MAX_TAG_TEXT:
            raise LimitError(f"{where}: the value has {len(value_text)} characters; at most {MAX_TAG_TEXT}")
        if "http://" in value_text or "https://" in value_text:
            raise LimitError(f"{where}: the value contains http:// or https://, which the API refuses")
        if vpc_values and value_text.startswith(SYSTEM_TAG_PREFIXES):
            raise LimitError(
                f"{where}: the value {value_text[:40]!r} starts with aliyun or acs:, which the API reserves; reword it"
            )


def check_count(option: str, value: int | None, low: int, high: int, fix: str) -> None:
    """``value`` (when given) within ``low`` and ``high``."""
    if value is not None and not low <= value <= high:
        raise LimitError(f"{option}: {value} given; it must be {low} to {high}; {fix}")


def role_eip_settings_errors(settings: Mapping[str, Any], prefix: str, whose: str, eip_keys: str = "") -> list[str]:
    """A role's EIP bandwidth, metering and wait settings, checked as eip_address would check them.

    ``settings`` holds ``<eip_keys>bandwidth``, ``<eip_keys>internet_charge_type`` and ``wait_timeout`` (each optional);
    an error names the role's variable, ``<prefix><key>`` (for example ``nat_egress_eip_bandwidth``).
    """
    errors = []
    bandwidth_key, charge_key = f"{eip_keys}bandwidth", f"{eip_keys}internet_charge_type"
    bandwidth = settings.get(bandwidth_key)
    if bandwidth is not None:
        try:
            bandwidth = int(bandwidth)
        except (TypeError, ValueError):
            errors.append(f"{prefix}{bandwidth_key}: {bandwidth!r} is not a whole number of Mbit/s; give one, e.g. 5")
        else:
            try:
                check_bandwidth(bandwidth, settings.get(charge_key), option=f"{prefix}{bandwidth_key}", whose=whose)
            except LimitError as error:
                errors.append(str(error).replace("internet_charge_type=", f"{prefix}{charge_key}="))
    timeout = settings.get("wait_timeout")
    if timeout is not None and int(timeout) <= 0:
        errors.append(f"{prefix}wait_timeout: {timeout} given; it must be a positive number of seconds")
    return errors
