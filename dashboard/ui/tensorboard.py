"""The group's TensorBoard from the page: start, stop, and the proxy that serves it."""

from dashboard.extensions import csrf
from dashboard.services.group import tensorboards
from dashboard.ui import reverse_proxy, route
from dashboard.ui.group_actions import answer
from dashboard.ui.groups import GROUP, group_access

PROXY = "/tensorboard/<owner>/<project>/groups/<int:group_id>/"


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


def proxy_route(prefix):
    """Register a proxy view at `prefix` and every path below it, for GET and POST."""

    def decorator(view):
        # TensorBoard's own data requests are POSTs without our token; they only read.
        view = csrf.exempt(view)
        view = route(f"{prefix}<path:subpath>", methods=("GET", "POST"))(view)
        return route(prefix, methods=("GET", "POST"))(view)

    return decorator


def forward(target):
    """The answer of the TensorBoard at the ProxyTarget to this request."""
    return reverse_proxy.forward(target.host, target.port, f"/{target.secret}", name="TensorBoard")


@proxy_route(PROXY)
def tensorboard_proxy(owner, project, group_id, subpath=""):
    """Forward the request to the group's TensorBoard on loopback (read access needed)."""
    return forward(tensorboards.proxy_target(group_access(owner, project), group_id))
