"""The group's TensorBoard from the page: start, stop, and the proxy that serves it.

The proxy is the only way in for a browser: the TensorBoard answers only under its job's secret
prefix (see services.tensorboards). The request goes to `/<secret>` + its own path, and the
secret is cut out of every header and body of the answer, so the browser never sees it:
TensorBoard writes its prefix into redirects (`Location`), the plugin listing's `module_path`
and the flags its `data/environment` shows; its page (index.html) links only relatively.
"""

import http.client

from flask import Response, request, stream_with_context

from dashboard.errors import Unavailable
from dashboard.extensions import csrf
from dashboard.services import tensorboards
from dashboard.ui import route
from dashboard.ui.group_actions import answer
from dashboard.ui.groups import GROUP, group_access

PROXY = "/tensorboard/<owner>/<project>/groups/<int:group_id>/"
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
# Asked uncompressed, so the secret can be cut out of the body; which changes its length.
NOT_SENT = HOP_BY_HOP | {"accept-encoding"}
NOT_RETURNED = HOP_BY_HOP | {"content-length"}
CHUNK = 64 * 1024


@route(f"{GROUP}/tensorboard/start", methods=("POST",))
def group_tensorboard_start(owner, project, group_id):
    """Start the group's TensorBoard (or keep the running one)."""
    access = group_access(owner, project)
    _, created = tensorboards.start_tensorboard(access, group_id)
    message = "TensorBoard started." if created else "TensorBoard is already running."
    return answer(access, owner, project, group_id, ("_tensorboard",), message)


@route(f"{GROUP}/tensorboard/stop", methods=("POST",))
def group_tensorboard_stop(owner, project, group_id):
    """Stop the group's TensorBoard."""
    access = group_access(owner, project)
    tensorboards.stop_tensorboard(access, group_id)
    return answer(access, owner, project, group_id, ("_tensorboard",), "TensorBoard stopped.")


@csrf.exempt  # TensorBoard's own data requests are POSTs without our token; they only read.
@route(PROXY, methods=("GET", "POST"))
@route(f"{PROXY}<path:subpath>", methods=("GET", "POST"))
def tensorboard_proxy(owner, project, group_id, subpath=""):
    """Forward the request to the group's TensorBoard on loopback (read access needed)."""
    target = tensorboards.proxy_target(group_access(owner, project), group_id)
    secret = f"/{target.secret}"
    connection = http.client.HTTPConnection(target.host, target.port, timeout=60)
    headers = {k: v for k, v in request.headers if k.lower() not in NOT_SENT}
    try:
        connection.request(
            request.method,
            secret + request.full_path.rstrip("?"),
            body=request.get_data() or None,
            headers=headers,
        )
        upstream = connection.getresponse()
    except OSError:
        connection.close()
        raise Unavailable("TensorBoard is not answering yet: reload in a few seconds.") from None
    forwarded = [
        (k, v.replace(secret, ""))
        for k, v in upstream.getheaders()
        if k.lower() not in NOT_RETURNED
    ]

    def body():
        try:
            yield from cut_out(secret.encode(), iter(lambda: upstream.read(CHUNK), b""))
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
