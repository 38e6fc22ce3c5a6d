"""A worker's declared GPUs: the ids of `--gpus` or WORKER_GPUS ("0,1,2,3")."""


def parse_gpus(text):
    """The ids of "0,1,2,3" (sorted, each once; "" or None: none); ValueError names a bad one."""
    ids = set()
    for part in str(text or "").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit():
            raise ValueError(f"GPU ids are integers >= 0 separated by commas, got {part!r}")
        ids.add(int(part))
    return sorted(ids)
