# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests never leave the machine: the credential chain's ECS metadata lookup (100.100.100.200) is off.

The credentials library reads ALIBABA_CLOUD_ECS_METADATA_DISABLED once, when it is imported, so it is set here,
before any test module imports the SDK (ansible-test passes only a few variables through from the caller).
"""

from __future__ import annotations

import os

os.environ["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"
