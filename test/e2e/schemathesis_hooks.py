"""Schemathesis hooks for comms-api: how to put NDJSON bodies on the wire.

The OpenAPI document describes NDJSON bodies (application/x-ndjson) as text; schemathesis has no
built-in serializer for that media type, so generated values are sent as UTF-8 text (strings),
or as one JSON document per line (lists), or as one JSON line (anything else).
"""
import json

import schemathesis


@schemathesis.serializer("application/x-ndjson", "application/ndjson")
def ndjson(ctx, value):
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    if isinstance(value, list):
        return "".join(json.dumps(v) + "\n" for v in value).encode("utf-8")
    return (json.dumps(value) + "\n").encode("utf-8")
