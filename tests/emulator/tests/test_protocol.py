"""Cross-cutting wire-protocol behaviour: signatures, credentials, replay, timestamps, routing, parameter encodings.

Requests are either made by the real SDK, or captured from the SDK (a throwaway loopback listener records
them) and replayed with ``http.client``, or built and signed here by an independent implementation of the
V3 / V2 algorithms of alibaba-api.md §1.3-1.4 (not the emulator's own ``protocol`` module).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import http.client
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_ecs20140526.client import Client as EcsClient
from alibabacloud_vpc20160428 import models as vpc_models
from alibabacloud_vpc20160428.client import Client as VpcClient

from tests.emulator.protocol import Params
from tests.emulator.tests.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET, REGION, api_error, make_config

# ---- helpers -----------------------------------------------------------------------------------------


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    captured: ClassVar[list] = []

    def log_message(self, format, *args):
        return

    def do_POST(self):
        _Recorder.captured.append((self.command, self.path, [(k.lower(), v) for k, v in self.headers.items()]))
        body = json.dumps({"RequestId": "captured"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def capture(call) -> tuple[str, str, list[tuple[str, str]]]:
    """Run ``call(config)`` against a recording listener; returns the SDK's (method, path, headers)."""
    listener = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=listener.serve_forever, daemon=True).start()
    _Recorder.captured = []
    try:
        call(f"127.0.0.1:{listener.server_address[1]}")
    finally:
        listener.shutdown()
        listener.server_close()
    return _Recorder.captured[0]


def capture_describe_vpcs(signature: str = "v3", **config) -> tuple[str, str, list[tuple[str, str]]]:
    """A captured SDK DescribeVpcs request."""

    def call(endpoint):
        VpcClient(make_config(endpoint, signature, **config)).describe_vpcs(
            vpc_models.DescribeVpcsRequest(region_id=REGION)
        )

    return capture(call)


def replay(server, method: str, path: str, headers: list[tuple[str, str]]) -> tuple[int, dict]:
    """Send a request byte for byte (including its Host header) to the emulator; (status, JSON body)."""
    host, port = server.endpoint.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            if name != "content-length":
                connection.putheader(name, value)
        connection.putheader("Content-Length", "0")
        connection.endheaders()
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def _pct(text: str) -> str:
    return quote(text, safe="~")


def signed_v3(server, action: str, version: str, query: list[tuple[str, str]], **options) -> tuple[int, dict]:
    """Build, sign (ACS3-HMAC-SHA256, independently of the emulator) and send one RPC request."""
    secret = options.pop("secret", ACCESS_KEY_SECRET)
    date = options.pop("date", datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    headers = {
        "host": server.endpoint,
        "x-acs-action": action,
        "x-acs-version": version,
        "x-acs-date": date,
        "x-acs-signature-nonce": options.pop("nonce", uuid.uuid4().hex),
        "x-acs-content-sha256": hashlib.sha256(b"").hexdigest(),
    }
    headers.update(options.pop("headers", {}))
    names = sorted(headers)
    canonical = "\n".join(
        [
            "POST",
            "/",
            "&".join(f"{key}={_pct(value)}" for key, value in sorted(query)),
            "".join(f"{name}:{headers[name].strip()}\n" for name in names),
            ";".join(names),
            hashlib.sha256(b"").hexdigest(),
        ]
    )
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    signature = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = "ACS3-HMAC-SHA256 Credential={},SignedHeaders={},Signature={}".format(
        options.pop("access_key_id", ACCESS_KEY_ID),
        ";".join(names),
        signature,
    )
    assert not options, options
    return replay(server, "POST", "/?" + urlencode(query), list(headers.items()))


def signed_v2(server, query: list[tuple[str, str]], secret: str = ACCESS_KEY_SECRET, **envelope) -> tuple[int, dict]:
    """Build, sign (HMAC-SHA1, independently of the emulator) and send one V2 request."""
    params = {
        "Format": "json",
        "Timestamp": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "SignatureNonce": uuid.uuid4().hex,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "AccessKeyId": ACCESS_KEY_ID,
        **envelope,
    }
    pairs = list(params.items()) + query
    canonical = "&".join(f"{_pct(k)}={_pct(v)}" for k, v in sorted(pairs))
    to_sign = "POST&%2F&" + _pct(canonical)
    signature = base64.b64encode(hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()).decode()
    return replay(server, "POST", "/?" + urlencode(pairs + [("Signature", signature)]), [("host", server.endpoint)])


# ---- signatures ----------------------------------------------------------------------------------------


def test_independently_signed_v3_request_is_accepted(server, control):
    status, body = signed_v3(server, "DescribeVpcs", "2016-04-28", [("RegionId", REGION)])
    assert status == 200 and body["TotalCount"] == 2 and body["RequestId"]


def test_wrong_secret(server, control):
    status, body = signed_v3(server, "DescribeVpcs", "2016-04-28", [("RegionId", REGION)], secret="wrong")
    assert (status, body["Code"]) == (403, "SignatureDoesNotMatch")


def test_wrong_secret_through_the_sdk(server, control):
    client = VpcClient(make_config(server.endpoint, access_key_secret="not-the-secret"))
    with pytest.raises(Exception) as excinfo:
        client.describe_vpcs(vpc_models.DescribeVpcsRequest(region_id=REGION))
    assert api_error(excinfo) == ("SignatureDoesNotMatch", 403)


def test_captured_sdk_request_replays_once(server, control):
    method, path, headers = capture_describe_vpcs()
    status, body = replay(server, method, path, headers)
    assert status == 200 and body["TotalCount"] == 2
    status, body = replay(server, method, path, headers)
    assert (status, body["Code"]) == (400, "SignatureNonceUsed")


def test_query_changed_after_signing(server, control):
    method, path, headers = capture_describe_vpcs()
    tampered = path.replace("RegionId=cn-hangzhou", "RegionId=cn-beijing")
    assert tampered != path
    status, body = replay(server, method, tampered, headers)
    assert (status, body["Code"]) == (403, "SignatureDoesNotMatch")


def test_signed_header_changed(server, control):
    method, path, headers = capture_describe_vpcs()
    tampered = [(name, "DescribeVSwitches" if name == "x-acs-action" else value) for name, value in headers]
    status, body = replay(server, method, path, tampered)
    assert (status, body["Code"]) == (403, "SignatureDoesNotMatch")


def test_content_hash_must_match_the_body(server, control):
    method, path, headers = capture_describe_vpcs()
    tampered = [(name, "0" * 64 if name == "x-acs-content-sha256" else value) for name, value in headers]
    status, body = replay(server, method, path, tampered)
    assert (status, body["Code"]) == (403, "SignatureDoesNotMatch")


def test_missing_authorization(server, control):
    method, path, headers = capture_describe_vpcs()
    status, body = replay(server, method, path, [(n, v) for n, v in headers if n != "authorization"])
    assert (status, body["Code"]) == (400, "MissingParameter")


@pytest.mark.parametrize(
    "authorization,code",
    [
        ("ACS3-HMAC-SHA256 garbage", "IncompleteSignature"),
        (f"ACS3-HMAC-SM3 Credential={ACCESS_KEY_ID},SignedHeaders=host,Signature=00", "InvalidParameter"),
        (
            f"ACS3-HMAC-SHA256 Credential={ACCESS_KEY_ID},SignedHeaders=host;x-acs-action,Signature=00",
            "IncompleteSignature",
        ),
    ],
)
def test_malformed_authorization(server, control, authorization, code):
    method, path, headers = capture_describe_vpcs()
    replaced = [(n, authorization if n == "authorization" else v) for n, v in headers]
    assert replay(server, method, path, replaced)[1]["Code"] == code


def test_unknown_access_key_id(server, control):
    status, body = signed_v3(server, "DescribeVpcs", "2016-04-28", [("RegionId", REGION)], access_key_id="LTAI-nobody")
    assert (status, body["Code"]) == (404, "InvalidAccessKeyId.NotFound")


# ---- STS ---------------------------------------------------------------------------------------------


def sts_client(server, token):
    return VpcClient(
        make_config(server.endpoint, access_key_id="STS.emulator", access_key_secret="sts-secret", security_token=token)
    )


def test_sts_token_accepted(server, control, signature):
    config = make_config(
        server.endpoint,
        signature,
        access_key_id="STS.emulator",
        access_key_secret="sts-secret",
        security_token="sts-token-1",
    )
    assert VpcClient(config).describe_vpcs(vpc_models.DescribeVpcsRequest(region_id=REGION)).body.total_count == 2


@pytest.mark.parametrize(
    "access_key_id,secret,token,expected",
    [
        ("STS.emulator", "sts-secret", "sts-token-old", ("InvalidSecurityToken.Expired", 400)),
        ("STS.emulator", "sts-secret", None, ("InvalidSecurityToken.Malformed", 400)),
        (ACCESS_KEY_ID, ACCESS_KEY_SECRET, "sts-token-1", ("InvalidSecurityToken.Malformed", 400)),
    ],
)
def test_sts_token_refused(server, control, access_key_id, secret, token, expected):
    config = make_config(server.endpoint, access_key_id=access_key_id, access_key_secret=secret, security_token=token)
    with pytest.raises(Exception) as excinfo:
        VpcClient(config).describe_vpcs(vpc_models.DescribeVpcsRequest(region_id=REGION))
    assert api_error(excinfo) == expected


# ---- freshness -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("offset_minutes", [-20, 20])
def test_illegal_timestamp_v3(server, control, offset_minutes):
    moment = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=offset_minutes)
    status, body = signed_v3(
        server, "DescribeVpcs", "2016-04-28", [("RegionId", REGION)], date=moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    assert (status, body["Code"]) == (400, "IllegalTimestamp")


def test_unparsable_timestamp_v3(server, control):
    status, body = signed_v3(server, "DescribeVpcs", "2016-04-28", [("RegionId", REGION)], date="yesterday")
    assert (status, body["Code"]) == (400, "IllegalTimestamp")


def test_illegal_timestamp_v2(server, control):
    query = [("Action", "DescribeVpcs"), ("Version", "2016-04-28"), ("RegionId", REGION)]
    status, body = signed_v2(server, query, Timestamp="2001-01-01T00:00:00Z")
    assert (status, body["Code"]) == (400, "IllegalTimestamp")


def test_nonce_reuse_v2(server, control):
    query = [("Action", "DescribeVpcs"), ("Version", "2016-04-28"), ("RegionId", REGION)]
    assert signed_v2(server, query, SignatureNonce="nonce-fixed-1")[0] == 200
    assert signed_v2(server, query, SignatureNonce="nonce-fixed-1")[1]["Code"] == "SignatureNonceUsed"


# ---- V2 path --------------------------------------------------------------------------------------------


def test_v2_client_works_end_to_end(vpc_v2):
    body = vpc_v2.describe_vpcs(vpc_models.DescribeVpcsRequest(region_id=REGION)).body
    assert body.total_count == 2


def test_v2_request_is_really_v2(server, control):
    method, path, headers = capture_describe_vpcs("v2")
    query = dict(parse_qsl(urlsplit(path).query))
    assert "Signature" in query and query["Action"] == "DescribeVpcs"
    assert "authorization" not in dict(headers)
    assert replay(server, method, path, headers)[0] == 200


def test_v2_wrong_secret(server, control):
    query = [("Action", "DescribeVpcs"), ("Version", "2016-04-28"), ("RegionId", REGION)]
    status, body = signed_v2(server, query, secret="wrong")
    assert (status, body["Code"]) == (403, "SignatureDoesNotMatch")


def test_v2_parameter_changed_after_signing(server, control):
    method, path, headers = capture_describe_vpcs("v2")
    tampered = path.replace("RegionId=cn-hangzhou", "RegionId=cn-beijing")
    assert replay(server, method, tampered, headers)[1]["Code"] == "SignatureDoesNotMatch"


@pytest.mark.parametrize(
    "envelope,code",
    [
        ({"AccessKeyId": ""}, "MissingParameter"),
        ({"SignatureMethod": "HMAC-MD5"}, "InvalidParameter"),
        ({"SignatureNonce": ""}, "MissingParameter"),
    ],
)
def test_v2_envelope_checks(server, control, envelope, code):
    query = [("Action", "DescribeVpcs"), ("Version", "2016-04-28"), ("RegionId", REGION)]
    assert signed_v2(server, query, **envelope)[1]["Code"] == code


# ---- routing -------------------------------------------------------------------------------------------


def test_unknown_action(server, control):
    status, body = signed_v3(server, "LaunchRocket", "2016-04-28", [("RegionId", REGION)])
    assert (status, body["Code"]) == (400, "InvalidAction.NotFound")


def test_action_of_another_product(server, control):
    # DescribeInstances is ECS, not VPC: the version routes the request.
    assert (
        signed_v3(server, "DescribeInstances", "2016-04-28", [("RegionId", REGION)])[1]["Code"]
        == "InvalidAction.NotFound"
    )
    assert signed_v3(server, "DescribeInstances", "2014-05-26", [("RegionId", REGION)])[0] == 200


def test_unknown_version(server, control):
    status, body = signed_v3(server, "DescribeVpcs", "2099-01-01", [("RegionId", REGION)])
    assert (status, body["Code"]) == (400, "InvalidVersion")


def test_missing_action_and_version(server, control):
    assert (
        replay(server, "POST", "/?RegionId=cn-hangzhou", [("host", server.endpoint)])[1]["Code"] == "MissingParameter"
    )
    headers = [("host", server.endpoint), ("x-acs-action", "DescribeVpcs")]
    status, body = replay(server, "POST", "/?RegionId=cn-hangzhou", headers)
    assert (status, body["Code"]) == (400, "MissingParameter") and "Version" in body["Message"]


def test_error_body_shape(server, control):
    status, body = signed_v3(server, "DescribeVpcs", "2016-04-28", [("RegionId", "mars-north-1")])
    assert status == 404
    assert set(body) == {"RequestId", "HostId", "Code", "Message", "Recommend"}
    assert body["HostId"] == "vpc.aliyuncs.com"
    assert "q=InvalidRegionId.NotFound" in body["Recommend"] and body["RequestId"] in body["Recommend"]


# ---- parameters ----------------------------------------------------------------------------------------


def test_missing_required_parameter(server, control):
    status, body = signed_v3(server, "DescribeVpcs", "2016-04-28", [])
    assert (status, body["Code"]) == (400, "MissingParameter")
    assert "RegionId" in body["Message"]


def test_malformed_integer(server, control):
    status, body = signed_v3(server, "DescribeVpcs", "2016-04-28", [("RegionId", REGION), ("PageSize", "ten")])
    assert (status, body["Code"]) == (400, "InvalidParameter")
    assert "PageSize" in body["Message"]


@pytest.mark.parametrize(
    "text,expected",
    [("True", True), ("TRUE", True), ("true", True), ("1", True), ("False", False), ("false", False), ("FALSE", False)],
)
def test_booleans_in_any_case(text, expected):
    assert Params({"Force": text}).bool("Force") is expected


def test_booleans_on_the_wire(server, control):
    # IsDefault=TRUE filters every (non-default) VPC out; IsDefault=false keeps them.
    assert (
        signed_v3(server, "DescribeVpcs", "2016-04-28", [("RegionId", REGION), ("IsDefault", "TRUE")])[1]["TotalCount"]
        == 0
    )
    assert (
        signed_v3(server, "DescribeVpcs", "2016-04-28", [("RegionId", REGION), ("IsDefault", "false")])[1]["TotalCount"]
        == 2
    )
    status, body = signed_v3(server, "DescribeVpcs", "2016-04-28", [("RegionId", REGION), ("IsDefault", "maybe")])
    assert (status, body["Code"]) == (400, "InvalidParameter")


def test_n_indexed_lists_keep_index_order(server, control):
    query = [
        ("RegionId", REGION),
        ("NetworkInterfaceId.10", "eni-multi"),
        ("NetworkInterfaceId.2", "eni-free"),
        ("NetworkInterfaceId.1", "eni-attached"),
    ]
    status, body = signed_v3(server, "DescribeNetworkInterfaces", "2014-05-26", query)
    assert status == 200
    assert [v["NetworkInterfaceId"] for v in body["NetworkInterfaceSets"]["NetworkInterfaceSet"]] == [
        "eni-attached",
        "eni-free",
        "eni-multi",
    ]
    assert Params({"X.10": "c", "X.2": "b", "X.1": "a", "XY.1": "no"}).indexed("X") == ["a", "b", "c"]


def test_sdk_sends_lists_as_n_indexed_parameters(server, control):
    method, path, headers = capture(
        lambda endpoint: VpcClient(make_config(endpoint)).describe_ha_vips(
            vpc_models.DescribeHaVipsRequest(
                region_id=REGION,
                filter=[vpc_models.DescribeHaVipsRequestFilter(key="HaVipId", value=["havip-1", "havip-2"])],
            )
        )
    )
    query = dict(parse_qsl(urlsplit(path).query))
    assert (query["Filter.1.Key"], query["Filter.1.Value.1"], query["Filter.1.Value.2"]) == (
        "HaVipId",
        "havip-1",
        "havip-2",
    )
    assert Params(query).objects("Filter") == [{"Key": "HaVipId", "Value": ["havip-1", "havip-2"]}]
    _status, body = replay(server, method, path, headers)
    assert [h["HaVipId"] for h in body["HaVips"]["HaVip"]] == ["havip-1"]


def test_ecs_instance_ids_travel_as_json_text(server, control):
    request = ecs_models.DescribeInstancesRequest(region_id=REGION, instance_ids=json.dumps(["i-running", "i-g7"]))
    method, path, headers = capture(lambda endpoint: EcsClient(make_config(endpoint)).describe_instances(request))
    assert json.loads(dict(parse_qsl(urlsplit(path).query))["InstanceIds"]) == ["i-running", "i-g7"]
    _status, body = replay(server, method, path, headers)
    assert [i["InstanceId"] for i in body["Instances"]["Instance"]] == ["i-g7", "i-running"]


def test_ignored_owner_parameters(server, control):
    query = [("RegionId", REGION), ("OwnerId", "123"), ("ResourceOwnerAccount", "someone")]
    assert signed_v3(server, "DescribeVpcs", "2016-04-28", query)[0] == 200
