"""Error catalogue of the emulated Alibaba Cloud control plane.

Every code the emulator can answer lives here with its documented HTTP status and message
(sources: ``shared/reference/alibaba-api.md`` §2-8).  Handlers raise ``ApiError(code)`` and
may override the message with ``%s`` arguments where the documentation shows a placeholder.
"""

from __future__ import annotations

# code -> (HTTP status, message)
CATALOGUE: dict[str, tuple[int, str]] = {
    # --- common (§2) ---------------------------------------------------------------------------
    "MissingParameter": (400, "The input parameter \"%s\" that is mandatory for processing this request is not supplied."),
    "InvalidParameter": (400, "The specified parameter \"%s\" is not valid."),
    "UnsupportedParameter": (400, "The parameter \"%s\" is not supported."),
    "IdempotentParameterMismatch": (400, "The request is retried with updated parameters."),
    "IllegalTimestamp": (400, "The input parameter \"Timestamp\" that is mandatory for processing this request is not supplied or is out of range."),
    "IncompleteSignature": (400, "The request signature does not conform to Aliyun standards."),
    "SignatureNonceUsed": (400, "The request signature nonce has been used."),
    "SignatureDoesNotMatch": (403, "The request signature we calculated does not match the signature you provided. Check your key and signing method."),
    "InvalidAccessKeyId.NotFound": (404, "Specified access key is not found."),
    "InvalidSecurityToken.Malformed": (400, "The specified SecurityToken is malformed."),
    "InvalidSecurityToken.Expired": (400, "The specified SecurityToken is expired."),
    "InvalidAction.NotFound": (400, "Specified api is not found, please check your url and method."),
    "InvalidVersion": (400, "Specified parameter Version is not valid."),
    "Throttling": (400, "Request was denied due to request throttling."),
    "Throttling.User": (400, "Request was denied due to user flow control."),
    "OperationConflict": (409, "Request was denied due to conflict with a previous request."),
    "InternalError": (500, "The request processing has failed due to some unknown error, exception or failure."),
    "ServiceUnavailable": (503, "The request has failed due to a temporary failure of the server."),
    "InvalidRegionId.NotFound": (404, "Specified value of RegionId is not supported."),
    "InvalidRegionId.MalFormed": (400, "The specified parameter RegionId is not valid."),
}


def register(codes: dict[str, tuple[int, str]]) -> None:
    """Add codes to the catalogue (action modules call this at import time)."""
    for code, entry in codes.items():
        existing = CATALOGUE.get(code)
        if existing is not None and existing != entry:
            raise ValueError("error code %s registered twice with different text" % code)
        CATALOGUE[code] = entry


class ApiError(Exception):
    """An API error answered to the client: code, HTTP status and message."""

    def __init__(self, code: str, *args: object, message: str | None = None, status: int | None = None):
        catalogued = CATALOGUE.get(code)
        if catalogued is None and (message is None or status is None):
            raise KeyError("error code %s is not in the catalogue" % code)
        default_status, default_message = catalogued if catalogued else (status, message)
        self.code = code
        self.status = status if status is not None else default_status
        text = message if message is not None else default_message
        if args:
            text = text % args
        elif "%s" in text:
            text = text.replace("%s", "").replace('""', "").replace("  ", " ")
        self.message = text
        super().__init__("%s %s: %s" % (self.status, code, text))
