# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this doc fragment is PRIVATE to the collection. It can change at any time; do not use it from
# other collections or standalone plugins/modules.

# The shared options of every module of the collection.  They document exactly the argument spec of
# plugins/module_utils/_client.py (_COMMON_ARGUMENT_SPEC); tests/unit/plugins/doc_fragments checks that.


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  access_key_id:
    description:
      - The AccessKey ID of an Alibaba Cloud account or RAM user.
      - When none of O(access_key_id), O(profile) and O(ecs_ram_role) is set, the module reads the keys from the
        environment variables E(ALIBABA_CLOUD_ACCESS_KEY_ID), E(ALIBABA_CLOUD_ACCESS_KEY_SECRET) and
        E(ALIBABA_CLOUD_SECURITY_TOKEN), or else the legacy E(ALICLOUD_ACCESS_KEY), E(ALICLOUD_SECRET_KEY) and
        E(ALICLOUD_SECURITY_TOKEN); failing those, the C(alibabacloud-credentials) default chain decides
        (environment, OIDC, the CLI profile, C(~/.alibabacloud/credentials.ini), the ECS RAM role, a credentials URI).
      - Mutually exclusive with O(profile) and O(ecs_ram_role).
    type: str
  access_key_secret:
    description:
      - The AccessKey secret that goes with O(access_key_id). Required with O(access_key_id).
      - The option is C(no_log), so ansible-core masks it in results and job output. As a module argument it is
        still printed by E(ANSIBLE_DEBUG) before masking and embedded in the C(AnsiballZ_*) file a killed run can
        leave behind; prefer E(ALIBABA_CLOUD_ACCESS_KEY_SECRET) in the environment of C(ansible-playbook), O(profile)
        or an AWX credential, and never pass the secret with C(-e). The collection's C(docs/credentials.md) lists
        where secrets can appear.
    type: str
  security_token:
    description:
      - An STS security token, for temporary keys in O(access_key_id) and O(access_key_secret).
      - Like O(access_key_secret), C(no_log), but better read from E(ALIBABA_CLOUD_SECURITY_TOKEN).
    type: str
  profile:
    description:
      - A profile of the Alibaba Cloud CLI's configuration file C(~/.aliyun/config.json) (modes AK, StsToken,
        RamRoleArn, EcsRamRole, ...).
    type: str
  ecs_ram_role:
    description:
      - The name of the RAM role attached to the ECS instance the module runs on; temporary credentials come from
        the instance metadata service (IMDSv2 token first).
    type: str
  assume_role_arn:
    description:
      - The ARN of a RAM role to assume (STS AssumeRole) with the credentials chosen by the other options, for
        example C(acs:ram::123456789012****:role/eip-admin).
    type: str
  assume_role_session_name:
    description:
      - The session name used with O(assume_role_arn); it shows in ActionTrail.
    type: str
    default: ansible-alicloud-eip
  region:
    description:
      - The region of the EIPs and resources, for example V(cn-hangzhou).
      - If not set, the environment variable E(ALIBABA_CLOUD_REGION_ID), else E(ALICLOUD_REGION) is used. One of
        them is required.
    type: str
  endpoint_url:
    description:
      - An endpoint for every service (VPC, ECS, SLB), either a host name such as V(vpc-vpc.cn-hangzhou.aliyuncs.com) (HTTPS)
        or a URL whose scheme picks the protocol, such as V(http://127.0.0.1:8080) for a local emulator.
      - O(endpoints) overrides it per service. Without either, the SDK's public endpoint of the region is used.
    type: str
  endpoints:
    description:
      - Endpoints per service, in the form of O(endpoint_url); use them for private VPC endpoints.
    type: dict
    suboptions:
      vpc:
        description:
          - The VPC API endpoint (EIPs, NAT gateways, HaVips), for example V(vpc-vpc.cn-hangzhou.aliyuncs.com).
        type: str
      ecs:
        description:
          - The ECS API endpoint (instances, ENIs), for example V(ecs-vpc.cn-hangzhou.aliyuncs.com).
        type: str
      slb:
        description:
          - The SLB API endpoint (Classic Load Balancer), for example V(slb-vpc.cn-hangzhou.aliyuncs.com).
        type: str
      alb:
        description:
          - The ALB API endpoint (Application Load Balancer zone EIPs), for example V(alb-vpc.cn-hangzhou.aliyuncs.com)
            (the public one is C(alb.<region>.aliyuncs.com)). UNCONFIRMED [fid:alb-nlb-vpc-endpoint]
        type: str
      nlb:
        description:
          - The NLB API endpoint (Network Load Balancer zone EIPs), for example V(nlb-vpc.cn-hangzhou.aliyuncs.com)
            (the public one is C(nlb.<region>.aliyuncs.com)). UNCONFIRMED [fid:alb-nlb-vpc-endpoint]
        type: str
  validate_certs:
    description:
      - Whether to verify the API endpoint's TLS certificate. Only set V(false) for a test endpoint you trust.
    type: bool
    default: true
requirements:
  - python >= 3.8
  - alibabacloud-vpc20160428
  - alibabacloud-ecs20140526
  - alibabacloud-slb20140515
  - alibabacloud-alb20200616
  - alibabacloud-nlb20220430
  - alibabacloud-credentials
  - alibabacloud-tea-openapi
notes:
  - Every API call is retried with jittered exponential backoff (honouring the server's C(x-acs-retry-after)) on
    throttling, C(TaskConflict), C(OperationConflict), C(ServiceUnavailable), other 5xx answers and connection
    failures; a mutating call keeps one C(ClientToken) across its retries, so a retry never acts twice.
  - The SDK reads the E(HTTP_PROXY) and E(HTTPS_PROXY) environment variables itself; unset them to reach an
    endpoint that the proxy cannot.
"""
