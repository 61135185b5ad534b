# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: ecs
short_description: Alibaba Cloud ECS instances with every EIP they carry, as an inventory
version_added: 0.1.0
description:
  - Reads the ECS instances of one or more regions with the official SDK and the same credential chain as the
    collection's modules, so the environment variables an AWX credential of the collection's type injects drive it too.
  - Every host gets what the collection's roles need (V(alicloud_instance_id), V(alicloud_region)), its zone, VPC,
    vSwitch, tags, ENIs with their private addresses and MACs, and in C(eips) B(every EIP of the instance), the one
    on the instance itself and those on its ENIs in NAT, BINDED and MULTI_BINDED mode.
  - The calls are batched and do not grow with the number of hosts beyond paging, per region one
    C(DescribeInstances) listing (100 instances per page) per include or exclude filter, and one
    C(DescribeEipAddresses) sweep of the EIPs in use (100 per page).
  - With O(cache) the raw API answers are cached, not the groups, so a cache hit makes no API call and still
    rebuilds O(compose), O(groups) and O(keyed_groups).
  - The inventory file name must end in V(alicloud_eip.yml) or V(alicloud_eip.yaml).
author:
  - alicloud.eip developers (@alicloud-eip)
requirements:
  - python >= 3.8
  - alibabacloud-vpc20160428
  - alibabacloud-ecs20140526
  - alibabacloud-credentials
  - alibabacloud-tea-openapi
extends_documentation_fragment:
  - constructed
  - inventory_cache
options:
  plugin:
    description: The name of this plugin; it must always be V(alicloud.eip.ecs).
    required: true
    type: str
    choices: [alicloud.eip.ecs]
  regions:
    description:
      - The regions to read, for example V([cn-hangzhou, cn-shanghai]).
      - If empty, the one region of E(ALIBABA_CLOUD_REGION_ID), else E(ALICLOUD_REGION) (an empty value counts as
        unset). One of them is required; the plugin does not list every region of the account.
    type: list
    elements: str
    default: []
  filters:
    description:
      - Server-side filters of C(DescribeInstances), a dict of V(instance_ids), V(instance_name), V(instance_type),
        V(instance_type_family), V(instance_network_type), V(instance_charge_type), V(status), V(vpc_id),
        V(vswitch_id), V(zone_id), V(security_group_id), V(resource_group_id), V(image_id), V(key_pair_name),
        V(private_ip_addresses), V(public_ip_addresses), V(eip_addresses) (the last four and V(instance_ids) take a
        list of up to 100) and V(tag:KEY) (at most 20).
      - 'For example V({status: Running, "tag:env": prod}).'
    type: dict
    default: {}
  include_filters:
    description:
      - More filter dicts like O(filters); the hosts of every listing are added (a union), as in amazon.aws's
        C(aws_ec2).
    type: list
    elements: dict
    default: []
  exclude_filters:
    description:
      - Filter dicts like O(filters) whose hosts are left out, even when an include filter matches them.
    type: list
    elements: dict
    default: []
  hostnames:
    description:
      - The inventory host name, in order of preference; the first that resolves is used, and a host for which
        none resolves is left out.
      - Each entry is one of V(eip_address) (the instance's EIP, else the first EIP on its ENIs),
        V(public_ip_address), V(private_ip_address), V(instance_id), V(instance_name), V(hostname), V(tag:KEY)
        (the tag's value), V(tag:KEY=VALUE) (V(KEY_VALUE) when the tag has that value), V(tag:KEY1,KEY2), or a
        dict V({name, prefix, separator}) that joins two of them (separator V(_) by default).
      - Host names are never sanitized (an address keeps its dots). Use O(compose) to set C(ansible_host).
    type: list
    elements: raw
    default: [eip_address, public_ip_address, private_ip_address, instance_id]
  allow_duplicated_hosts:
    description:
      - Add the host under every name of O(hostnames) that resolves, not only the first.
    type: bool
    default: false
  default_groups:
    description:
      - Put each host in the groups C(region_<id>), C(zone_<id>), C(vpc_<id>), C(status_<status>),
        C(tag_<key>_<value>), C(has_eip) and C(eip_mode_<NAT|BINDED|MULTI_BINDED>) (characters other than letters,
        digits and C(_) become C(_)).
    type: bool
    default: true
  access_key_id:
    description:
      - The AccessKey ID. Without it (and without O(profile) and O(ecs_ram_role)) the keys come from
        E(ALIBABA_CLOUD_ACCESS_KEY_ID) / E(ALIBABA_CLOUD_ACCESS_KEY_SECRET) / E(ALIBABA_CLOUD_SECURITY_TOKEN), else
        E(ALICLOUD_ACCESS_KEY) / E(ALICLOUD_SECRET_KEY) / E(ALICLOUD_SECURITY_TOKEN), else the
        C(alibabacloud-credentials) default chain, exactly as for the modules. Empty values count as unset.
    type: str
  access_key_secret:
    description: The AccessKey secret that goes with O(access_key_id); better left to the environment.
    type: str
  security_token:
    description: An STS token for temporary keys in O(access_key_id) and O(access_key_secret).
    type: str
  profile:
    description: A profile of the Alibaba Cloud CLI's C(~/.aliyun/config.json).
    type: str
  ecs_ram_role:
    description: The RAM role of the ECS instance the inventory runs on.
    type: str
  assume_role_arn:
    description: A RAM role to assume with the chosen credentials.
    type: str
  assume_role_session_name:
    description: The session name used with O(assume_role_arn).
    type: str
    default: ansible-alicloud-eip
  endpoint_url:
    description:
      - One endpoint for the ECS and VPC APIs, a host name (HTTPS) or a URL such as V(http://127.0.0.1:8080) for a
        local emulator. Without it the SDK's public endpoint of each region is used.
      - Also read from E(ALICLOUD_EIP_ENDPOINT_URL).
    type: str
    env:
      - name: ALICLOUD_EIP_ENDPOINT_URL
  validate_certs:
    description: Whether to verify the endpoint's TLS certificate.
    type: bool
    default: true
notes:
  - Needs the RAM permissions C(ecs:DescribeInstances) and C(vpc:DescribeEipAddresses).
  - An EIP on a HaVip, a NAT gateway or a load balancer belongs to no host and is not listed in C(eips).
seealso:
  - name: The inventory guide of the collection
    description: docs/inventory.md, with a migration table from amazon.aws's aws_ec2.
    link: https://github.com/alicloud-eip/alicloud.eip/blob/main/docs/inventory.md
"""

EXAMPLES = r"""
# prod.alicloud_eip.yml: running hosts of two regions, named by their EIP, reached at their private address.
plugin: alicloud.eip.ecs
regions: [cn-hangzhou, cn-shanghai]
filters:
  status: Running
  tag:env: prod
exclude_filters:
  - tag:maintenance: "true"
hostnames:
  - eip_address
  - private_ip_address
compose:
  ansible_host: private_ip_address
keyed_groups:
  - key: instance_tags.role | default('none')
    prefix: role
  - key: eips | length | string
    prefix: eip_count
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/alicloud_eip_inventory
cache_timeout: 600

---
# Names like web-i-bp1abc (the Name tag, then the instance ID), every host of one VPC.
plugin: alicloud.eip.ecs
filters:
  vpc_id: vpc-bp1example
hostnames:
  - name: instance_id
    prefix: tag:Name
    separator: "-"
"""

import os

from ansible.errors import AnsibleError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

try:
    from ansible_collections.alicloud.eip.plugins.module_utils._client import (
        REGION_ENVIRONMENT,
        ConfigurationError,
        connection_from_params,
        missing_sdk_packages,
    )
    from ansible_collections.alicloud.eip.plugins.module_utils._inventory import (
        InventoryOptionError,
        check_hostnames,
        default_groups,
        exclude_filter_sets,
        gather_region,
        host_vars,
        hostnames,
        include_filter_sets,
        index_eips,
    )
    from ansible_collections.alicloud.eip.plugins.module_utils._retries import AlicloudApiError
except ImportError as error:  # pragma: no cover - the collection's own files are always there
    raise AnsibleError(f"alicloud.eip.ecs: cannot import the collection's module_utils: {error}") from error

CONNECTION_OPTIONS = (
    "access_key_id",
    "access_key_secret",
    "security_token",
    "profile",
    "ecs_ram_role",
    "assume_role_arn",
    "assume_role_session_name",
    "endpoint_url",
    "validate_certs",
)


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "alicloud.eip.ecs"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("alicloud_eip.yml", "alicloud_eip.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        try:
            regions = self._regions()
            includes = include_filter_sets(self.get_option("filters"), self.get_option("include_filters"))
            excludes = exclude_filter_sets(self.get_option("exclude_filters"))
            check_hostnames(self.get_option("hostnames"))
        except InventoryOptionError as error:
            raise AnsibleError(f"alicloud.eip.ecs ({path}): {error}") from None

        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache")
        results = None
        if use_cache and cache:
            try:
                results = self._cache[cache_key]
            except KeyError:
                results = None
        needs_update = use_cache and results is None
        if results is None:
            results = self._query(regions, includes, excludes)
        self._populate(results)
        if needs_update:
            self._cache[cache_key] = results

    def _regions(self):
        regions = [str(region) for region in self.get_option("regions") or [] if str(region).strip()]
        if regions:
            return list(dict.fromkeys(regions))
        for name in REGION_ENVIRONMENT:
            if os.environ.get(name, "").strip():
                return [os.environ[name].strip()]
        raise InventoryOptionError(
            "no region: set regions (for example regions: [cn-hangzhou]) or the environment variable "
            + " or ".join(REGION_ENVIRONMENT)
        )

    def _query(self, regions, includes, excludes):
        # The inventory calls ECS (instances, ENIs) and VPC (EIPs), no other product.
        missing = missing_sdk_packages(("ecs", "vpc"))
        if missing:
            raise AnsibleError(
                f"alicloud.eip.ecs needs the Python packages {', '.join(missing)} on the controller "
                "(pip install -r requirements.txt of the collection)"
            )
        params = {name: self.get_option(name) for name in CONNECTION_OPTIONS}
        results = {}
        for region in regions:
            try:
                connection = connection_from_params({**params, "region": region})
                results[region] = gather_region(connection, includes, excludes)
            except ConfigurationError as error:
                raise AnsibleError(f"alicloud.eip.ecs: {error}") from None
            except AlicloudApiError as error:
                raise AnsibleError(f"alicloud.eip.ecs: could not read region {region}: {error.describe()}") from None
        return results

    def _populate(self, results):
        strict = self.get_option("strict")
        preferences = self.get_option("hostnames")
        duplicated = self.get_option("allow_duplicated_hosts")
        for region, answer in results.items():
            index = index_eips(answer["eips"])
            for record in answer["instances"]:
                variables = host_vars(record, region, index)
                for name in hostnames(variables, preferences, duplicated):
                    self._add_host(name, variables, strict)

    def _add_host(self, name, variables, strict):
        self.inventory.add_host(name)
        for key, value in variables.items():
            self.inventory.set_variable(name, key, value)
        if self.get_option("default_groups"):
            for group in default_groups(variables):
                self.inventory.add_group(group)
                self.inventory.add_child(group, name)
        self._set_composite_vars(self.get_option("compose"), variables, name, strict=strict)
        self._add_host_to_composed_groups(self.get_option("groups"), variables, name, strict=strict)
        self._add_host_to_keyed_groups(self.get_option("keyed_groups"), variables, name, strict=strict)
