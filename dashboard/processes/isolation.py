"""Whether experiments run isolated: the one reading of the SANDBOX setting, shared by the
runner (runner/sandbox.py builds the sandbox from it) and the pages that warn when they do not."""


def sandbox_enabled(config):
    """Whether experiments run in the bubblewrap sandbox: SANDBOX is anything but "off"."""
    return str(config.get("SANDBOX", "bwrap")).lower() != "off"
