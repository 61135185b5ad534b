"""ALB (query string) and NLB (form body) zone EIPs through the real SDKs: jobs, Configuring, service-managed EIPs."""

from __future__ import annotations

import copy

import pytest
from alibabacloud_alb20200616 import models as alb_models
from alibabacloud_alb20200616.client import Client as AlbClient
from alibabacloud_nlb20220430 import models as nlb_models
from alibabacloud_nlb20220430.client import Client as NlbClient
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_vpc20160428 import models as vpc_models

from tests.emulator.tests.conftest import BASE_WORLD, REGION, api_error, make_config
from tests.emulator.world import WorldError, build_state


def lb_world(**balancers) -> dict:
    world = copy.deepcopy(BASE_WORLD)
    region = world["regions"][REGION]
    region["vpcs"][0]["vswitches"].append({"id": "vsw-i", "zone": "cn-hangzhou-i", "cidr": "10.3.0.0/24"})
    region["eips"] += [{"id": "eip-c", "ip": "47.96.1.12"}, {"id": "eip-d", "ip": "47.96.1.13"}]
    region.update(balancers)
    return world


ZONES = [{"vswitch": "vsw-a"}, {"vswitch": "vsw-i"}]


@pytest.fixture
def alb(server, control) -> AlbClient:
    control.load(lb_world(albs=[{"id": "alb-one", "zones": ZONES}]))
    return AlbClient(make_config(server.endpoint))


@pytest.fixture
def nlb(server, control) -> NlbClient:
    control.load(
        lb_world(
            nlbs=[
                {
                    "id": "nlb-one",
                    "address_type": "Internet",
                    "zones": [{"vswitch": "vsw-a", "eip": "eip-a"}, {"vswitch": "vsw-i", "eip": "eip-b"}],
                }
            ]
        )
    )
    return NlbClient(make_config(server.endpoint))


def eip(vpc, allocation_id):
    request = vpc_models.DescribeEipAddressesRequest(region_id=REGION, allocation_id=allocation_id)
    return vpc.describe_eip_addresses(request).body.eip_addresses.eip_address[0]


def alb_zones(allocations):
    return [
        alb_models.UpdateLoadBalancerAddressTypeConfigRequestZoneMappings(
            zone_id=zone, v_switch_id=vsw, allocation_id=eip_id
        )
        for zone, vsw, eip_id in allocations
    ]


def test_alb_goes_internet_through_a_job_that_stays_processing(alb, control, vpc):
    control.delays(lb_job=30)
    request = alb_models.UpdateLoadBalancerAddressTypeConfigRequest(
        load_balancer_id="alb-one",
        address_type="Internet",
        zone_mappings=alb_zones([("cn-hangzhou-h", "vsw-a", "eip-a"), ("cn-hangzhou-i", "vsw-i", "eip-b")]),
    )
    job = alb.update_load_balancer_address_type_config(request).body.job_id
    jobs = alb.list_asyn_jobs(alb_models.ListAsynJobsRequest(job_ids=[job])).body.jobs
    assert [j.status for j in jobs] == ["Processing"]
    attribute = alb.get_load_balancer_attribute(alb_models.GetLoadBalancerAttributeRequest(load_balancer_id="alb-one"))
    assert attribute.body.load_balancer_status == "Configuring"
    # Configuring: writes are refused until the job ends.
    with pytest.raises(ClientException) as excinfo:
        alb.update_load_balancer_address_type_config(
            alb_models.UpdateLoadBalancerAddressTypeConfigRequest(load_balancer_id="alb-one", address_type="Intranet")
        )
    assert api_error(excinfo) == ("IncorrectStatus.LoadBalancer", 400)
    assert eip(vpc, "eip-a").status == "Available"
    control.advance(31)
    jobs = alb.list_asyn_jobs(alb_models.ListAsynJobsRequest(job_ids=[job])).body.jobs
    assert [j.status for j in jobs] == ["Succeeded"]
    body = alb.get_load_balancer_attribute(alb_models.GetLoadBalancerAttributeRequest(load_balancer_id="alb-one")).body
    assert (body.address_type, body.load_balancer_status, body.load_balancer_bussiness_status) == (
        "Internet",
        "Active",
        "Normal",
    )
    assert [
        (z.zone_id, z.load_balancer_addresses[0].allocation_id, z.load_balancer_addresses[0].address)
        for z in body.zone_mappings
    ] == [("cn-hangzhou-h", "eip-a", "47.96.1.10"), ("cn-hangzhou-i", "eip-b", "47.96.1.11")]
    held = eip(vpc, "eip-a")
    assert (held.status, held.instance_type, held.instance_id.startswith("eni-"), held.service_managed) == (
        "InUse",
        "NetworkInterface",
        True,
        1,
    )
    # The EIP API cannot take it off: the load balancer holds it.
    with pytest.raises(ClientException) as excinfo:
        vpc.unassociate_eip_address(vpc_models.UnassociateEipAddressRequest(region_id=REGION, allocation_id="eip-a"))
    assert api_error(excinfo)[0] == "IncorrectEipStatus"


def test_alb_refusals(alb, control):
    def update(address_type, allocations):
        return alb.update_load_balancer_address_type_config(
            alb_models.UpdateLoadBalancerAddressTypeConfigRequest(
                load_balancer_id="alb-one", address_type=address_type, zone_mappings=alb_zones(allocations) or None
            )
        )

    with pytest.raises(ClientException) as excinfo:  # Intranet -> Internet needs every zone's EIP
        update("Internet", [("cn-hangzhou-h", "vsw-a", "eip-a")])
    assert api_error(excinfo) == ("MissingParameter", 400)
    with pytest.raises(ClientException) as excinfo:
        update("Internet", [("cn-hangzhou-h", "vsw-a", "eip-a"), ("cn-hangzhou-i", "vsw-i", "eip-nothere")])
    assert api_error(excinfo) == ("InvalidAllocationId.NotFound", 404)
    with pytest.raises(ClientException) as excinfo:  # nothing changes
        update("Intranet", [])
    assert api_error(excinfo)[0] == "OperationDenied.ZoneMappingsNotChanged"
    update("Internet", [("cn-hangzhou-h", "vsw-a", "eip-a"), ("cn-hangzhou-i", "vsw-i", "eip-b")])
    # ALB's UpdateLoadBalancerZones has no AllocationId: an EIP swap there changes nothing (TF #9309).
    with pytest.raises(ClientException) as excinfo:
        alb.update_load_balancer_zones(
            alb_models.UpdateLoadBalancerZonesRequest(
                load_balancer_id="alb-one",
                zone_mappings=[
                    alb_models.UpdateLoadBalancerZonesRequestZoneMappings(zone_id=z, v_switch_id=v)
                    for z, v in (("cn-hangzhou-h", "vsw-a"), ("cn-hangzhou-i", "vsw-i"))
                ],
            )
        )
    assert api_error(excinfo)[0] == "OperationDenied.ZoneMappingsNotChanged"
    with pytest.raises(ClientException) as excinfo:
        alb.get_load_balancer_attribute(alb_models.GetLoadBalancerAttributeRequest(load_balancer_id="alb-nothere"))
    assert api_error(excinfo) == ("ResourceNotFound.LoadBalancer", 404)


def test_nlb_reads_the_form_body_swaps_with_the_full_zone_list_and_goes_intranet(nlb, control, vpc):
    listed = nlb.list_load_balancers(nlb_models.ListLoadBalancersRequest(region_id=REGION)).body.load_balancers
    assert [b.load_balancer_id for b in listed] == ["nlb-one"]
    zones = [
        nlb_models.UpdateLoadBalancerZonesRequestZoneMappings(
            zone_id="cn-hangzhou-h", v_switch_id="vsw-a", allocation_id="eip-c"
        ),
        nlb_models.UpdateLoadBalancerZonesRequestZoneMappings(
            zone_id="cn-hangzhou-i", v_switch_id="vsw-i", allocation_id="eip-b"
        ),
    ]
    job = nlb.update_load_balancer_zones(
        nlb_models.UpdateLoadBalancerZonesRequest(load_balancer_id="nlb-one", region_id=REGION, zone_mappings=zones)
    ).body.job_id
    assert nlb.get_job_status(nlb_models.GetJobStatusRequest(job_id=job)).body.status == "Succeeded"
    body = nlb.get_load_balancer_attribute(
        nlb_models.GetLoadBalancerAttributeRequest(load_balancer_id="nlb-one", region_id=REGION)
    ).body
    addresses = [z.load_balancer_addresses[0] for z in body.zone_mappings]
    assert [(a.allocation_id, a.public_ipv_4address, a.eni_id.startswith("eni-")) for a in addresses] == [
        ("eip-c", "47.96.1.12", True),
        ("eip-b", "47.96.1.11", True),
    ]
    assert (eip(vpc, "eip-a").status, eip(vpc, "eip-c").status) == ("Available", "InUse")
    nlb.update_load_balancer_address_type_config(
        nlb_models.UpdateLoadBalancerAddressTypeConfigRequest(
            load_balancer_id="nlb-one", region_id=REGION, address_type="Intranet"
        )
    )
    assert {eip(vpc, key).status for key in ("eip-b", "eip-c")} == {"Available"}
    with pytest.raises(ClientException) as excinfo:
        nlb.get_load_balancer_attribute(
            nlb_models.GetLoadBalancerAttributeRequest(load_balancer_id="nlb-nothere", region_id=REGION)
        )
    assert api_error(excinfo) == ("ResourceNotFound.loadBalancer", 404)  # sic: lower-case l


@pytest.mark.parametrize(
    ("balancer", "message"),
    [
        ({"id": "lb-x", "zones": ZONES}, "must start with alb-"),
        ({"id": "alb-x", "address_type": "Internet", "zones": ZONES}, "every zone needs an EIP"),
        ({"id": "alb-x", "zones": [{"vswitch": "vsw-a", "eip": "eip-a"}]}, "is Intranet and cannot hold"),
        (
            {"id": "alb-x", "address_type": "Internet", "zones": [{"vswitch": "vsw-a", "eip": "eip-zz"}]},
            "not an Available EIP",
        ),
    ],
)
def test_world_checks_load_balancers(balancer, message):
    with pytest.raises(WorldError, match=message):
        build_state(lb_world(albs=[balancer]))


def test_alb_create_provisions_then_delete_frees_its_eips(alb, control, vpc):
    control.delays(lb_job=10)
    request = alb_models.CreateLoadBalancerRequest(
        vpc_id="vpc-main",
        address_type="Internet",
        load_balancer_edition="Standard",
        load_balancer_billing_config=alb_models.CreateLoadBalancerRequestLoadBalancerBillingConfig(pay_type="PostPay"),
        load_balancer_name="web",
        zone_mappings=[
            alb_models.CreateLoadBalancerRequestZoneMappings(zone_id=zone, v_switch_id=vsw, allocation_id=eip_id)
            for zone, vsw, eip_id in (("cn-hangzhou-h", "vsw-a", "eip-c"), ("cn-hangzhou-i", "vsw-i", "eip-d"))
        ],
    )
    created = alb.create_load_balancer(request).body.load_balancer_id
    assert created.startswith("alb-")

    def attribute():
        return alb.get_load_balancer_attribute(
            alb_models.GetLoadBalancerAttributeRequest(load_balancer_id=created)
        ).body

    assert (attribute().load_balancer_status, attribute().address_type) == ("Provisioning", "Intranet")
    control.advance(11)
    assert (attribute().load_balancer_status, attribute().address_type) == ("Active", "Internet")
    assert (eip(vpc, "eip-c").status, eip(vpc, "eip-c").service_managed) == ("InUse", 1)
    job = alb.delete_load_balancer(alb_models.DeleteLoadBalancerRequest(load_balancer_id=created)).body.job_id
    control.advance(11)
    jobs = alb.list_asyn_jobs(alb_models.ListAsynJobsRequest(job_ids=[job])).body.jobs
    assert [(j.status, j.operate_type) for j in jobs] == [("Succeeded", "Delete")]
    with pytest.raises(ClientException) as excinfo:
        attribute()
    assert api_error(excinfo) == ("ResourceNotFound.LoadBalancer", 404)
    assert {eip(vpc, key).status for key in ("eip-c", "eip-d")} == {"Available"}


def test_nlb_create_answers_loadbalancer_id_with_a_lower_case_b(nlb, control):
    request = nlb_models.CreateLoadBalancerRequest(
        region_id=REGION,
        vpc_id="vpc-main",
        address_type="Intranet",
        zone_mappings=[
            nlb_models.CreateLoadBalancerRequestZoneMappings(zone_id="cn-hangzhou-h", v_switch_id="vsw-a"),
            nlb_models.CreateLoadBalancerRequestZoneMappings(zone_id="cn-hangzhou-i", v_switch_id="vsw-i"),
        ],
    )
    body = nlb.create_load_balancer(request).body
    assert body.loadbalancer_id.startswith("nlb-") and body.order_id
    listed = nlb.list_load_balancers(nlb_models.ListLoadBalancersRequest(region_id=REGION)).body.load_balancers
    assert sorted(b.load_balancer_id for b in listed) == sorted(["nlb-one", body.loadbalancer_id])
    with pytest.raises(ClientException) as excinfo:  # an Internet-facing one needs an EIP per zone (here)
        nlb.create_load_balancer(
            nlb_models.CreateLoadBalancerRequest(
                region_id=REGION,
                vpc_id="vpc-main",
                address_type="Internet",
                zone_mappings=[
                    nlb_models.CreateLoadBalancerRequestZoneMappings(zone_id="cn-hangzhou-h", v_switch_id="vsw-a")
                ],
            )
        )
    assert api_error(excinfo) == ("MissingParameter", 400)
    with pytest.raises(ClientException) as excinfo:
        nlb.get_job_status(nlb_models.GetJobStatusRequest(job_id="job-nothere"))
    assert api_error(excinfo)[0] == "ResourceNotFound.Job"
