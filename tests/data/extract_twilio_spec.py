"""Cut the part of Twilio's OpenAPI file that the tests use (see README.md here).

python tests/data/extract_twilio_spec.py twilio_api_v2010.json > tests/data/twilio_api_v2010_messages.json
"""

from __future__ import annotations

import json
import re
import sys

PATHS = (
    "/2010-04-01/Accounts/{AccountSid}/Messages.json",
    "/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json",
)
REF = re.compile(r'"#/components/schemas/([^"]+)"')


def extract(spec: dict) -> dict:
    """The named paths and every schema they reach, with the file's own header."""
    paths = {p: spec["paths"][p] for p in PATHS}
    schemas: dict = {}
    todo = REF.findall(json.dumps(paths))
    while todo:
        name = todo.pop()
        if name not in schemas:
            schemas[name] = spec["components"]["schemas"][name]
            todo.extend(REF.findall(json.dumps(schemas[name])))
    return {
        "openapi": spec["openapi"],
        "info": spec["info"],
        "servers": spec.get("servers", []),
        "paths": paths,
        "components": {
            "securitySchemes": spec["components"].get("securitySchemes", {}),
            "schemas": dict(sorted(schemas.items())),
        },
    }


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        json.dump(extract(json.load(f)), sys.stdout, indent=2, sort_keys=False)
        sys.stdout.write("\n")
