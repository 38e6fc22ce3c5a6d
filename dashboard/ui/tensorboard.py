"""The group's TensorBoard from the page: start, stop, and the proxy that serves it."""

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
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailer", "transfer-encoding", "upgrade", "host", "cookie", "set-cookie"}


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
    host, port = tensorboards.proxy_target(group_access(owner, project), group_id)
    connection = http.client.HTTPConnection(host, port, timeout=60)
    headers = {k: v for k, v in request.headers if k.lower() not in HOP_BY_HOP}
    try:
        connection.request(request.method, request.full_path.rstrip("?"),
                           body=request.get_data() or None, headers=headers)
        upstream = connection.getresponse()
    except OSError:
        connection.close()
        raise Unavailable("TensorBoard is not answering yet: reload in a few seconds.") from None
    forwarded = [(k, v) for k, v in upstream.getheaders() if k.lower() not in HOP_BY_HOP]

    def body():
        try:
            while chunk := upstream.read(64 * 1024):
                yield chunk
        finally:
            connection.close()

    return Response(stream_with_context(body()), status=upstream.status, headers=forwarded)
