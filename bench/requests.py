"""Sends N keep-alive requests of one kind to Tessera and fails on any unexpected answer.

    requests.py PORT token_cc|introspect N CLIENT_ID CLIENT_SECRET [TOKEN]

token_cc asks for a client-credentials token (and prints the last one); introspect asks
about TOKEN, which must be active.
"""

import base64
import http.client
import json
import sys
import urllib.parse

port, kind, count, client_id, secret = sys.argv[1:6]
token = sys.argv[6] if len(sys.argv) > 6 else ""
basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
headers = {
    "Authorization": f"Basic {basic}",
    "Content-Type": "application/x-www-form-urlencoded",
}
if kind == "token_cc":
    path, body = "/oauth/token", "grant_type=client_credentials&scope=profile"
elif kind == "introspect":
    path, body = "/oauth/introspect", urllib.parse.urlencode({"token": token})
else:
    sys.exit(f"unknown kind {kind}")
connection = http.client.HTTPConnection("127.0.0.1", int(port), timeout=120)
for _ in range(int(count)):
    connection.request("POST", path, body, headers)
    response = connection.getresponse()
    data = response.read()
    if response.status != 200:
        sys.exit(f"{kind}: {response.status} {data[:200]!r}")
    if kind == "introspect" and b'"active":true' not in data:
        sys.exit(f"{kind}: not active: {data[:200]!r}")
if kind == "token_cc":
    print(json.loads(data)["access_token"])
