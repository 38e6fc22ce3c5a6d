"""A reverse proxy to a server on loopback that answers only under a secret path prefix.

Used for the group's TensorBoard (ui.tensorboard): the proxy is the only way in for a browser,
as the TensorBoard answers only under its job's secret prefix (see services.group.tensorboards). The
request goes to the prefix + its own path, and the prefix is cut out of every header and body of
the answer, so the browser never sees it: TensorBoard writes its prefix into redirects
(`Location`), the plugin listing's `module_path` and the flags its `data/environment` shows; its
page (index.html) links only relatively.
"""

import http.client

from flask import Response, request, stream_with_context

from dashboard.errors import Unavailable

# Headers that describe one connection, never forwarded (RFC 9110 section 7.6.1).
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "cookie",
    "set-cookie",
}
# Asked uncompressed, so the prefix can be cut out of the body; which changes its length.
NOT_SENT = HOP_BY_HOP | {"accept-encoding"}
NOT_RETURNED = HOP_BY_HOP | {"content-length"}
CHUNK = 64 * 1024


def forward(host, port, prefix, *, name):
    """The answer of the server at host:port to this request sent under `prefix`, streamed with
    the prefix cut out (Unavailable, naming the server `name`, while it does not answer)."""
    connection = http.client.HTTPConnection(host, port, timeout=60)
    headers = {k: v for k, v in request.headers if k.lower() not in NOT_SENT}
    try:
        connection.request(
            request.method,
            prefix + request.full_path.rstrip("?"),
            body=request.get_data() or None,
            headers=headers,
        )
        upstream = connection.getresponse()
    except OSError:
        connection.close()
        raise Unavailable(f"{name} is not answering yet: reload in a few seconds.") from None
    forwarded = [
        (k, v.replace(prefix, ""))
        for k, v in upstream.getheaders()
        if k.lower() not in NOT_RETURNED
    ]

    def body():
        try:
            yield from cut_out(prefix.encode(), iter(lambda: upstream.read(CHUNK), b""))
        finally:
            connection.close()

    return Response(stream_with_context(body()), status=upstream.status, headers=forwarded)


def cut_out(needle, chunks):
    """The chunks with every `needle` cut out, also one that spans two chunks."""
    keep = len(needle) - 1  # a needle may start in the last `keep` bytes: hold them back
    held = b""
    for chunk in chunks:
        data = (held + chunk).replace(needle, b"")
        split = max(len(data) - keep, 0)
        if split:
            yield data[:split]
        held = data[split:]
    if held:
        yield held
