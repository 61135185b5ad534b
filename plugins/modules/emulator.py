#!/usr/bin/python
# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: emulator
short_description: Start or stop the offline Alibaba Cloud emulator of this collection, for testing roles
version_added: 0.1.0
description:
  - Starts the collection's emulator of the Alibaba Cloud APIs this collection uses (VPC, ECS, SLB and the instance
    metadata service) as a background process on the controller, seeded from a world file, and returns its
    endpoint for O(alicloud.eip.eip_info#module:endpoint_url) and the other modules' C(endpoint_url).
  - The emulator is stateful (EIPs allocated, associated, released; ENIs attached; asynchronous steps take the
    world's delays) and speaks the real API, so the official SDK talks to it unmodified.
  - The world file is checked before anything starts; a bad key fails naming its path and the fix. The format
    (version 1, key C(world_format)) is described in C(docs/emulator.md) of the collection, "The world file".
  - Runs on the controller only (it is an action plugin); the emulator listens on loopback and has no
    authentication beyond the world's access keys.
  - The molecule kit of the collection (the playbooks C(alicloud.eip.molecule.create) and
    C(alicloud.eip.molecule.destroy)) starts and stops it for a scenario; see C(docs/testing-your-roles.md).
author:
  - alicloud.eip developers (@alicloud-eip)
options:
  state:
    description:
      - V(started) starts the emulator unless one already runs for O(directory) with the same world file (same
        content), O(host), O(port) and O(metadata_socket); a different one is restarted from the world.
      - V(stopped) stops the emulator of O(directory) and removes the files it kept there (record, endpoint,
        state, log, socket), and O(directory) itself when that leaves it empty.
    type: str
    choices: [started, stopped]
    default: started
  directory:
    description:
      - Directory for the emulator's record (pid), endpoint file, state file, log and metadata socket. One emulator
        per directory; created when missing.
    type: path
    required: true
  world:
    description:
      - The world file (YAML or JSON) that seeds the emulated account. Required with O(state=started).
    type: path
  host:
    description:
      - Loopback address to listen on. Any other address is refused.
    type: str
    default: 127.0.0.1
  port:
    description:
      - TCP port; V(0) picks a free one (returned in RV(endpoint)).
    type: int
    default: 0
  metadata_socket:
    description:
      - Also serve the API and the instance metadata on the unix socket RV(metadata_socket), which the namespace
        lab of the molecule kit forwards to C(100.100.100.200) inside each lab host.
    type: bool
    default: false
  timeout:
    description:
      - Seconds to wait for the emulator to listen.
    type: int
    default: 60
attributes:
  check_mode:
    support: full
    details:
      - In check mode nothing starts or stops; C(changed) predicts whether it would.
  diff_mode:
    support: full
  idempotent:
    support: full
  action:
    description: Has a corresponding action plugin, which does the work on the controller.
    support: full
    details:
      - Runs on the controller; the module file only holds this documentation.
extends_documentation_fragment:
  - alicloud.eip._attributes
notes:
  - Needs the collection as installed from its tarball (it ships C(tests/emulator)) and the Python packages of its
    C(requirements.txt); no checkout, Makefile or virtual environment of the project.
  - Requests to the emulator must not go through a proxy; unset E(HTTP_PROXY) and E(HTTPS_PROXY) for
    C(ansible-playbook), and set E(ALIBABA_CLOUD_ECS_METADATA_DISABLED=true) so that the SDK's credential chain
    never asks the real metadata service.
seealso:
  - module: alicloud.eip.eip_info
"""

EXAMPLES = r"""
- name: Start the emulator from a world file
  alicloud.eip.emulator:
    directory: /tmp/my-role-emulator
    world: "{{ playbook_dir }}/world.yml"
  register: emulator

# The world's test key in the environment of ansible-playbook: ALIBABA_CLOUD_ACCESS_KEY_ID and _SECRET.
- name: Use it
  alicloud.eip.eip_info:
    region: cn-hangzhou
    endpoint_url: "{{ emulator.endpoint_url }}"

- name: Stop it and remove its files
  alicloud.eip.emulator:
    directory: /tmp/my-role-emulator
    state: stopped
"""

RETURN = r"""
state:
  description: The state after the task.
  returned: always
  type: str
  sample: started
endpoint:
  description: host:port the emulator listens on (empty when stopped, or in check mode before it was started).
  returned: always
  type: str
  sample: 127.0.0.1:40123
endpoint_url:
  description: RV(endpoint) as a URL, for the modules' C(endpoint_url).
  returned: always
  type: str
  sample: http://127.0.0.1:40123
pid:
  description: Process ID of the emulator (0 when stopped).
  returned: always
  type: int
  sample: 4242
directory:
  description: The absolute path of O(directory).
  returned: always
  type: str
  sample: /tmp/my-role-emulator
world:
  description: The absolute path of the world file.
  returned: when O(state=started)
  type: str
  sample: /home/me/roles/web_tier/molecule/default/world.yml
metadata_socket:
  description: Path of the unix socket, when O(metadata_socket) is set.
  returned: when O(state=started)
  type: str
  sample: /tmp/my-role-emulator/metadata.sock
"""
