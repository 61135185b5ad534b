"""An AWX job, simulated with ansible-runner (issue 13 item 5): the private data directory laid out as AWX lays it
out, the environment rendered from the shipped credential type, the job template's extra variables, the inventory
source being the collection's own inventory plugin, and a wrapper playbook that imports alicloud.eip.multi_eip.
One run; then the result, the cloud's state, and the secret's absence from every event and artifact."""

from __future__ import annotations

import json
import subprocess

import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .conftest import REPO, VENV_BIN, base_env

ACCESS_KEY_ID = "LTAI-awx-job"
ACCESS_KEY_SECRET = "awx-job-secret-7Qz3vK"
WORLD = {
    "access_keys": [{"id": ACCESS_KEY_ID, "secret": ACCESS_KEY_SECRET}],
    "delays": {"eni_attach": 0.2, "eip_associate": 0.2},
    "regions": {
        "cn-hangzhou": {
            "zones": ["cn-hangzhou-h"],
            "eip_pool": {"cidr": "47.96.30.0/28", "count": 8},
            "vpcs": [
                {
                    "id": "vpc-awx",
                    "cidr": "10.7.0.0/16",
                    "vswitches": [
                        {"id": "vsw-awx", "zone": "cn-hangzhou-h", "cidr": "10.7.1.0/24"},
                        {"id": "vsw-awx-eni", "zone": "cn-hangzhou-h", "cidr": "10.7.2.0/24"},
                    ],
                }
            ],
            "security_groups": [{"id": "sg-awx", "vpc": "vpc-awx"}],
            "instances": [
                {
                    "id": "i-awx-web",
                    "name": "web",
                    "hostname": "web01",
                    "vswitch": "vsw-awx",
                    "security_groups": ["sg-awx"],
                    "tags": {"role": "web"},
                    "max_enis": 3,
                },
                {"id": "i-awx-db", "name": "db", "hostname": "db01", "vswitch": "vsw-awx", "tags": {"role": "db"}},
            ],
        }
    },
}


def credential_env() -> dict[str, str]:
    """env/envvars as AWX writes it: the credential type's env injectors rendered over the credential's inputs
    (the optional STS token left blank, so rendered as an empty string)."""
    credential_type = yaml.safe_load((REPO / "extensions/awx/credential_type_alibaba_cloud.yml").read_text())
    inputs = {
        "access_key_id": ACCESS_KEY_ID,
        "access_key_secret": ACCESS_KEY_SECRET,
        "security_token": "",
        "region_id": "cn-hangzhou",
    }
    jinja = ImmutableSandboxedEnvironment()
    return {
        name: jinja.from_string(template).render(**inputs)
        for name, template in credential_type["injectors"]["env"].items()
    }


def test_job_through_ansible_runner(start_emulator, collections_path, tmp_path):
    emulator = start_emulator(WORLD)
    private = tmp_path / "job"
    for directory in ("env", "inventory", "project"):
        (private / directory).mkdir(parents=True)
    envvars = {
        **credential_env(),
        # The job template's own settings: the collections of the EE, the inventory source's endpoint (an emulator
        # here, so it stays out of the credential), no metadata lookups off ECS.
        "ANSIBLE_COLLECTIONS_PATH": collections_path,
        "ALICLOUD_EIP_ENDPOINT_URL": emulator.endpoint,
        "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
        "ANSIBLE_PYTHON_INTERPRETER": str(VENV_BIN / "python"),
    }
    (private / "env" / "envvars").write_text(yaml.safe_dump(envvars))
    # Extra variables / survey answers of the job template: the guard's target and the role's settings.
    extravars = {
        "target": "role_web",
        "alicloud_endpoint_url": emulator.endpoint,
        "ansible_connection": "local",
        "multi_eip_configure_host": False,
        "multi_eip_instance_id": "{{ alicloud_instance_id }}",
        "multi_eip_mode": "nat_secondary_ips",
        "multi_eip_count": 2,
        "multi_eip_vswitch_id": "vsw-awx-eni",
        "multi_eip_security_group_ids": ["sg-awx"],
        "multi_eip_name_prefix": "awx-web",
    }
    (private / "env" / "extravars").write_text(yaml.safe_dump(extravars))
    (private / "env" / "settings").write_text(yaml.safe_dump({"job_timeout": 600, "idle_timeout": 300}))
    # The inventory source: the collection's plugin (AWX's "Sourced from a project" with this file).
    (private / "inventory" / "awx.alicloud_eip.yml").write_text(
        yaml.safe_dump(
            {
                "plugin": "alicloud.eip.ecs",
                "hostnames": ["hostname"],
                "keyed_groups": [{"key": "instance_tags.role", "prefix": "role"}],
            }
        )
    )
    # The job template's playbook: a wrapper in the project, since a job template cannot name an FQCN playbook.
    (private / "project" / "multi_eip.yml").write_text(
        "---\n- name: Multiple EIPs on the targeted hosts\n  ansible.builtin.import_playbook: alicloud.eip.multi_eip\n"
    )

    done = subprocess.run(
        [str(VENV_BIN / "ansible-runner"), "run", str(private), "-p", "multi_eip.yml", "--ident", "job1"],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
        env=base_env(),
    )
    artifacts = private / "artifacts" / "job1"
    stdout = (artifacts / "stdout").read_text() if (artifacts / "stdout").exists() else done.stdout
    assert done.returncode == 0, stdout[-4000:] + done.stderr[-2000:]
    assert (artifacts / "rc").read_text().strip() == "0"
    assert (artifacts / "status").read_text().strip() == "successful"

    events = [json.loads(path.read_text()) for path in sorted((artifacts / "job_events").glob("*.json"))]
    (stats,) = [event for event in events if event.get("event") == "playbook_on_stats"]
    assert stats["event_data"]["changed"].get("web01", 0) > 0 and "db01" not in stats["event_data"]["changed"]
    assert not stats["event_data"]["failures"] and not stats["event_data"]["dark"]

    # The cloud: two EIPs of the job on an ENI of the web instance, none on db.
    state = emulator.control("state")
    enis = {eni_id for eni_id, eni in state["enis"].items() if eni["InstanceId"] == "i-awx-web"}
    held = [eip for eip in state["eips"].values() if eip["Name"].startswith("awx-web")]
    assert len(held) == 2 and {eip["InstanceId"] for eip in held} <= enis

    # The secret is in the environment AWX gave the job (env/envvars) and nowhere the job wrote. ansible-runner's own
    # artifacts/<ident>/command records the process environment it was handed (runner's file, not one the collection
    # controls; AWX keeps its own redacted job_env): there it may appear only under "env".
    command = json.loads((artifacts / "command").read_text())
    assert ACCESS_KEY_SECRET not in json.dumps({key: value for key, value in command.items() if key != "env"})
    leaks = [
        str(path.relative_to(private))
        for path in artifacts.rglob("*")
        if path.is_file() and path.name != "command" and ACCESS_KEY_SECRET in path.read_text(errors="replace")
    ]
    assert leaks == []
    assert all(ACCESS_KEY_SECRET not in json.dumps(event) for event in events)
    assert ACCESS_KEY_SECRET not in done.stdout + done.stderr
    assert len(events) > 20  # the events were really written and scanned
