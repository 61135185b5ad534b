# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab connection by its old path (``connection_plugins`` of the scenarios' molecule.yml): the plugin itself is
the collection's ``alicloud.eip.nsenter_netns`` (plugins/connection/nsenter_netns.py), which the molecule kit ships."""

from __future__ import annotations

# pylint: disable-next=unused-import
from ansible_collections.alicloud.eip.plugins.connection.nsenter_netns import DOCUMENTATION, Connection  # noqa: F401
