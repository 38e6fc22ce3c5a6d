"""Search quality on the Branin function: median simple regret of random search, our bo and
scikit-optimize's gp_minimize over 20 seeds, at 10, 25 and 50 trials.

Usage: python benchmarks/search_quality.py [--seeds N] [--no-peer]

Simple regret after t trials is min(f over the first t trials) - 0.397887 (Branin's minimum, on
x1 in [-5, 10], x2 in [0, 15]). Our bo runs the real iteration interface (first_iteration /
next_iteration) with 5 initial trials, 45 GP iterations, EI and a Matern 2.5 kernel. The peer,
gp_minimize (5 initial points, EI, otherwise its defaults), runs in its own virtualenv,
benchmarks/.venv-peers, created from benchmarks/requirements-peers.txt when missing; it prints
JSON back. Seeds run in parallel on every core, BLAS single-threaded (tiny matrices).
"""

import json
import math
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

# Set before numpy loads: threads only slow a GP of 50 points, and seeds run in parallel.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import numpy as np  # noqa: E402

from dashboard.hptuning import parse_group_spec, suggestions  # noqa: E402
from dashboard.hptuning.iterations import first_iteration, next_iteration  # noqa: E402

MINIMUM = 0.397887
BUDGETS = (10, 25, 50)
TRIALS = max(BUDGETS)
PEER_VENV = HERE / ".venv-peers"
PEER_REQUIREMENTS = HERE / "requirements-peers.txt"

MATRIX = """\
  matrix:
    x1: {uniform: [-5, 10]}
    x2: {uniform: [0, 15]}
run: {cmd: echo}
"""
BO = """\
version: 1
kind: group
hptuning:
  seed: %(seed)d
  bo:
    n_initial_trials: 5
    n_iterations: %(iterations)d
    metric: {name: branin, optimization: minimize}
    utility_function:
      acquisition_function: ei
      eps: 0.0
      gaussian_process: {kernel: matern, nu: 2.5, length_scale: 1.0}
"""
RANDOM = """\
version: 1
kind: group
hptuning:
  seed: %(seed)d
  random_search: {n_experiments: %(trials)d}
"""

PEER = """
import json
import math
from concurrent.futures import ProcessPoolExecutor
from skopt import gp_minimize

def branin(x):
    x1, x2 = x
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10

def run(seed):
    result = gp_minimize(branin, [(-5.0, 10.0), (0.0, 15.0)], n_calls=%(trials)d,
                         n_initial_points=5, acq_func="EI", random_state=seed)
    return [float(v) for v in result.func_vals]

if __name__ == "__main__":
    with ProcessPoolExecutor() as pool:
        print(json.dumps(list(pool.map(run, range(%(seeds)d)))))
"""


def branin(x1, x2):
    """The Branin-Hoo function (global minimum 0.397887)."""
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def random_values(seed):
    """Branin values of our random search's suggestions, in order."""
    spec = parse_group_spec(RANDOM % {"seed": seed, "trials": TRIALS} + MATRIX)
    return [branin(s["x1"], s["x2"]) for s in suggestions(spec)]


def bo_values(seed):
    """Branin values of our bo, driven iteration by iteration like the scheduler does."""
    spec = parse_group_spec(BO % {"seed": seed, "iterations": TRIALS - 5} + MATRIX)
    iteration, everything = first_iteration(spec), []
    while iteration is not None:
        last = [(p, branin(p["x1"], p["x2"])) for p in iteration.suggestions]
        everything += last
        iteration = next_iteration(spec, iteration, last, everything)
    return [value for _, value in everything]


def peer_values(seeds):
    """gp_minimize's values per seed, run in benchmarks/.venv-peers."""
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {PEER_VENV} from {PEER_REQUIREMENTS.name} ...", file=sys.stderr)
        subprocess.run(["python3", "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "-r", str(PEER_REQUIREMENTS)], check=True
        )
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "peer_gp_minimize.py"
        script.write_text(PEER % {"trials": TRIALS, "seeds": seeds})
        done = subprocess.run(
            [str(python), str(script)], check=True, capture_output=True, text=True, cwd=HERE
        )
    return json.loads(done.stdout)


def median_regrets(runs):
    """Median simple regret at each budget over the runs."""
    return {t: float(np.median([min(values[:t]) - MINIMUM for values in runs])) for t in BUDGETS}


def main(argv):
    seeds = int(argv[argv.index("--seeds") + 1]) if "--seeds" in argv else 20
    with ProcessPoolExecutor() as pool:
        rows = {
            "random search": median_regrets(list(pool.map(random_values, range(seeds)))),
            "our bo (ei)": median_regrets(list(pool.map(bo_values, range(seeds)))),
        }
    if "--no-peer" not in argv:
        rows["skopt gp_minimize (ei)"] = median_regrets(peer_values(seeds))
    print(f"Branin, median simple regret over {seeds} seeds")
    print(f"{'optimiser':<24}" + "".join(f"{f'{t} trials':>14}" for t in BUDGETS))
    for name, regrets in rows.items():
        print(f"{name:<24}" + "".join(f"{regrets[t]:>14.3g}" for t in BUDGETS))
    ours = rows["our bo (ei)"][TRIALS]
    print(
        f"our bo / random at {TRIALS} trials: {ours / rows['random search'][TRIALS]:.3g}"
        " (target <= 0.333)"
    )
    if "skopt gp_minimize (ei)" in rows:
        peer = rows["skopt gp_minimize (ei)"][TRIALS]
        print(f"our bo / gp_minimize at {TRIALS} trials: {ours / peer:.3g} (target <= 1.2)")


if __name__ == "__main__":
    main(sys.argv[1:])
