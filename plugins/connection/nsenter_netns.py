# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: nsenter_netns
short_description: Run tasks inside a lab host made of a network namespace and a mount namespace
description:
  - Test-only connection to the hosts of the molecule kit's namespace lab (C(docs/testing-your-roles.md)), which the
    collection's own molecule scenarios use too. Every command runs through
    C(nsenter --net=/run/netns/<netns> --mount=<mount namespace>), so the task sees the lab host's interfaces, its
    sysfs and its own /etc, never the runner's.
  - Files are transferred by the local connection; the lab hosts share the runner's filesystem outside /etc.
  - Needs root on the controller (C(nsenter)), as the lab itself does.
author:
  - alicloud.eip developers (@alicloud-eip)
version_added: 0.1.0
extends_documentation_fragment:
  - connection_pipelining
options:
  netns:
    description: Name of the network namespace (under /run/netns).
    type: str
    vars:
      - name: ansible_netns
      - name: ansible_host
  mount_namespace:
    description: Path of the persistent mount namespace of the host (bind mount made by C(unshare --mount=PATH)).
    type: str
    required: true
    vars:
      - name: ansible_mount_namespace
  become_success_timeout:
    description: Number of seconds to wait for become to succeed when enabled.
    type: int
    default: 10
    ini:
      - section: connection
        key: become_success_timeout
    env:
      - name: ANSIBLE_CONNECTION_BECOME_SUCCESS_TIMEOUT
    vars:
      - name: ansible_connection_become_success_timeout
  become_strip_preamble:
    description: Strip internal become output preceding command execution.
    type: bool
    default: true
    ini:
      - section: connection
        key: become_strip_preamble
    env:
      - name: ANSIBLE_CONNECTION_BECOME_STRIP_PREAMBLE
    vars:
      - name: ansible_connection_become_strip_preamble
"""

import shlex

from ansible.plugins.connection.local import Connection as LocalConnection


class Connection(LocalConnection):
    """The local connection, with every command wrapped in nsenter."""

    transport = "nsenter_netns"

    def exec_command(self, cmd, in_data=None, sudoable=True):
        netns = shlex.quote(self.get_option("netns"))
        mount_namespace = shlex.quote(self.get_option("mount_namespace"))
        wrapped = f"nsenter --net=/run/netns/{netns} --mount={mount_namespace} -- /bin/sh -c {shlex.quote(cmd)}"
        return super().exec_command(wrapped, in_data=in_data, sudoable=sudoable)
