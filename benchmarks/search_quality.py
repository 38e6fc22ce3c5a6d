"""Search quality: median simple regret over 20 seeds at 25, 50 and 100 trials of our random
search, bo, tpe and cmaes, beside Optuna's own TPESampler and CmaEsSampler run directly and
scikit-optimize's gp_minimize, on three problems:

- branin: Branin-Hoo, x1 in [-5, 10], x2 in [0, 15]; minimum 0.397887.
- hartmann6: Hartmann-6 on [0, 1]^6; minimum -3.32237 at (0.20169, 0.150011, 0.476874,
  0.275332, 0.311652, 0.6573).
- mixed4: x1, x2, x3 in [0, 1] and a categorical `kind` in a, b, c, d: Hartmann-3 of x plus 1
  (a), Hartmann-3 of x (b), Hartmann-3 of 1 - x plus 0.3 (c, a decoy optimum), 0 (d); minimum
  -3.86278 at kind b, x = (0.114614, 0.555649, 0.852547). cmaes cannot search it (categorical).

Usage: python benchmarks/search_quality.py [--seeds N] [--trials N] [--gp-trials N]
       [--only m1,m2] [--no-peer]

The GP-based optimisers (our bo, gp_minimize) run to --gp-trials (default 50) only: a GP at 100
trials costs 10 to 25 s of CPU per run on this machine, 20 seeds x 3 problems some 13 min (bo)
and 25 min (gp_minimize), past the ~10 minutes of CPU a benchmark run may take here; their
100-trial column shows "-" unless --gp-trials 100. --only runs a subset (e.g. `--only bo` and
`--only gp_minimize` as separate runs).

Simple regret after t trials is min(f over the first t trials) - the minimum. Every search of
ours runs sequentially through the project's own functions, one experiment at a time as the
scheduler would with concurrency 1: random search through `suggestions`, bo through
first_iteration / next_iteration (5 initial trials, EI, Matern 2.5), tpe and cmaes through
samplers.next_batch (tpe: 10 initial trials), every spec parsed by parse_group_spec. Optuna's
samplers run directly with the same settings (TPESampler(n_startup_trials=10,
constant_liar=True), CmaEsSampler()) on the same space (suggest_float / suggest_categorical).
gp_minimize (5 initial points, EI, otherwise its defaults) runs in its own virtualenv,
benchmarks/.venv-peers, created from benchmarks/requirements-peers.txt when missing; it prints
JSON back. Runs go in parallel on every core, BLAS single-threaded (tiny matrices). Optuna's own
also run on seeds 1000 to 1019 ("#2" rows): the ratio of its two sets of seeds is the noise a
ratio of medians over 20 seeds carries. Prints the CPU time of each optimiser and the wall time
of the whole run.
"""

import inspect
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

# Set before numpy loads: threads only slow a GP of 100 points, and runs go in parallel.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import numpy as np  # noqa: E402

from dashboard.hptuning import parse_group_spec, suggestions  # noqa: E402
from dashboard.hptuning.iterations import first_iteration, next_iteration  # noqa: E402
from dashboard.hptuning.samplers import next_batch  # noqa: E402
from dashboard.hptuning.trials import Trial  # noqa: E402

BUDGETS = (25, 50, 100)
PEER_VENV = HERE / ".venv-peers"
PEER_REQUIREMENTS = HERE / "requirements-peers.txt"
OURS = ("random", "bo", "tpe", "cmaes")
OPTUNA = ("optuna tpe", "optuna cmaes")
PEER = "gp_minimize"
RESEEDED = "#2"  # Optuna's own on seeds 1000 to 1000 + N - 1
GP_BASED = ("bo", PEER)

HARTMANN_ALPHA = (1.0, 1.2, 3.0, 3.2)
HARTMANN6_A = (
    (10, 3, 17, 3.5, 1.7, 8),
    (0.05, 10, 17, 0.1, 8, 14),
    (3, 3.5, 1.7, 10, 17, 8),
    (17, 8, 0.05, 10, 0.1, 14),
)
HARTMANN6_P = (
    (0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886),
    (0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991),
    (0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650),
    (0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381),
)
HARTMANN3_A = ((3, 10, 30), (0.1, 10, 35), (3, 10, 30), (0.1, 10, 35))
HARTMANN3_P = (
    (0.3689, 0.1170, 0.2673),
    (0.4699, 0.4387, 0.7470),
    (0.1091, 0.8732, 0.5547),
    (0.0381, 0.5743, 0.8828),
)
KINDS = ("a", "b", "c", "d")


def hartmann(x, a, p):
    """Hartmann function of x with the matrices a and p (HARTMANN_ALPHA weights)."""
    total = 0.0
    for alpha, row, centre in zip(HARTMANN_ALPHA, a, p, strict=True):
        total -= alpha * math.exp(
            -sum(r * (xi - c) ** 2 for r, xi, c in zip(row, x, centre, strict=True))
        )
    return total


def branin(p):
    """The Branin-Hoo function (global minimum 0.397887)."""
    x1, x2 = p["x1"], p["x2"]
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def hartmann6(p):
    """Hartmann-6 on [0, 1]^6 (global minimum -3.32237)."""
    return hartmann([p[f"x{i}"] for i in range(1, 7)], HARTMANN6_A, HARTMANN6_P)


def mixed4(p):
    """Hartmann-3 of x1..x3 shifted or mirrored by the categorical `kind` (minimum -3.86278)."""
    x = [p["x1"], p["x2"], p["x3"]]
    if p["kind"] == "a":
        return hartmann(x, HARTMANN3_A, HARTMANN3_P) + 1
    if p["kind"] == "b":
        return hartmann(x, HARTMANN3_A, HARTMANN3_P)
    if p["kind"] == "c":
        return hartmann([1 - v for v in x], HARTMANN3_A, HARTMANN3_P) + 0.3
    return 0.0


# name -> (function, minimum, numeric bounds {param: (low, high)}, categorical {param: choices})
PROBLEMS = {
    "branin": (branin, 0.397887, {"x1": (-5.0, 10.0), "x2": (0.0, 15.0)}, {}),
    "hartmann6": (hartmann6, -3.32237, {f"x{i}": (0.0, 1.0) for i in range(1, 7)}, {}),
    "mixed4": (mixed4, -3.86278, {f"x{i}": (0.0, 1.0) for i in range(1, 4)}, {"kind": KINDS}),
}

HEADER = "version: 1\nkind: group\nhptuning:\n  seed: %(seed)d\n"
BO = """\
  bo:
    n_initial_trials: 5
    n_iterations: %(iterations)d
    metric: {name: loss, optimization: minimize}
    utility_function:
      acquisition_function: ei
      eps: 0.0
      gaussian_process: {kernel: matern, nu: 2.5, length_scale: 1.0}
"""
RANDOM = "  random_search: {n_experiments: %(trials)d}\n"


def matrix_yaml(problem):
    """The problem's hptuning matrix and a run section, as polyaxonfile YAML."""
    _, _, numeric, categorical = PROBLEMS[problem]
    lines = ["  matrix:"]
    lines += [f"    {name}: {{uniform: [{low}, {high}]}}" for name, (low, high) in numeric.items()]
    lines += [f"    {name}: {{values: [{', '.join(c)}]}}" for name, c in categorical.items()]
    return "\n".join(lines) + "\nrun: {cmd: echo}\n"


def random_values(problem, seed, trials):
    """Values of our random search's suggestions, in order."""
    spec = parse_group_spec(
        HEADER % {"seed": seed} + RANDOM % {"trials": trials} + matrix_yaml(problem)
    )
    return [PROBLEMS[problem][0](s) for s in suggestions(spec)]


def bo_values(problem, seed, trials):
    """Values of our bo, driven iteration by iteration like the scheduler does."""
    content = HEADER % {"seed": seed} + BO % {"iterations": trials - 5} + matrix_yaml(problem)
    spec, function = parse_group_spec(content), PROBLEMS[problem][0]
    iteration, everything = first_iteration(spec), []
    while iteration is not None:
        last = [(p, function(p)) for p in iteration.suggestions]
        everything += last
        iteration = next_iteration(spec, iteration, last, everything)
    return [value for _, value in everything]


def sampler_values(algorithm, problem, seed, trials):
    """Values of our tpe or cmaes, asked for one experiment at a time through next_batch."""
    initial = "n_initial_trials: 10, " if algorithm == "tpe" else ""
    metric = "metric: {name: loss, optimization: minimize}"
    block = f"  {algorithm}: {{n_experiments: {trials}, {initial}{metric}}}\n"
    spec = parse_group_spec(HEADER % {"seed": seed} + block + matrix_yaml(problem))
    function, done = PROBLEMS[problem][0], []
    while batch := next_batch(spec, done, 1).suggestions:
        for params in batch:
            done.append(Trial(len(done) + 1, params, "succeeded", function(params)))
    return [trial.metric for trial in done]


def optuna_values(algorithm, problem, seed, trials):
    """Values of Optuna's own sampler run directly on the same space, same settings."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    function, _, numeric, categorical = PROBLEMS[problem]
    if algorithm == "tpe":
        sampler = optuna.samplers.TPESampler(n_startup_trials=10, constant_liar=True, seed=seed)
    else:
        sampler = optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)

    def objective(trial):
        params = {name: trial.suggest_float(name, *bounds) for name, bounds in numeric.items()}
        for name, choices in categorical.items():
            params[name] = trial.suggest_categorical(name, choices)
        return function(params)

    study = optuna.create_study(direction="minimize", sampler=sampler)
    study.optimize(objective, n_trials=trials)
    return [trial.value for trial in study.trials]


def run(task):
    """One (method, problem, seed, trials) run: its values and the CPU seconds it took."""
    method, problem, seed, trials = task
    started = time.process_time()
    if method == "random":
        values = random_values(problem, seed, trials)
    elif method == "bo":
        values = bo_values(problem, seed, trials)
    elif method in ("tpe", "cmaes"):
        values = sampler_values(method, problem, seed, trials)
    else:
        values = optuna_values(method.split()[1], problem, seed, trials)
    return values, time.process_time() - started


PEER_SCRIPT = """
import json
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from skopt import gp_minimize
from skopt.space import Categorical, Real

%(functions)s
PROBLEMS = %(problems)s

def run(task):
    problem, seed = task
    name, numeric, categorical = PROBLEMS[problem]
    names = list(numeric) + list(categorical)
    space = [Real(*bounds) for bounds in numeric.values()]
    space += [Categorical(list(choices)) for choices in categorical.values()]
    function = globals()[name]
    started = time.process_time()
    result = gp_minimize(lambda x: function(dict(zip(names, x))), space, n_calls=%(trials)d,
                         n_initial_points=5, acq_func="EI", random_state=seed)
    return [float(v) for v in result.func_vals], time.process_time() - started

if __name__ == "__main__":
    tasks = [(problem, seed) for problem in %(chosen)r for seed in range(%(seeds)d)]
    with ProcessPoolExecutor() as pool:
        print(json.dumps(list(pool.map(run, tasks))))
"""


def peer_runs(problems, seeds, trials):
    """gp_minimize's (values, CPU seconds) per problem and seed, run in benchmarks/.venv-peers."""
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {PEER_VENV} from {PEER_REQUIREMENTS.name} ...", file=sys.stderr)
        subprocess.run(["python3", "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "-r", str(PEER_REQUIREMENTS)], check=True
        )
    constants = "".join(
        f"{name} = {globals()[name]!r}\n"
        for name in ("HARTMANN_ALPHA", "HARTMANN6_A", "HARTMANN6_P", "HARTMANN3_A", "HARTMANN3_P")
    )
    functions = constants + "\n".join(
        inspect.getsource(f) for f in (hartmann, branin, hartmann6, mixed4)
    )
    described = {p: (PROBLEMS[p][0].__name__, PROBLEMS[p][2], PROBLEMS[p][3]) for p in problems}
    script_text = PEER_SCRIPT % {
        "functions": functions,
        "problems": repr(described),
        "trials": trials,
        "chosen": list(problems),
        "seeds": seeds,
    }
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "peer_gp_minimize.py"
        script.write_text(script_text)
        done = subprocess.run(
            [str(python), str(script)], check=True, capture_output=True, text=True, cwd=HERE
        )
    results = json.loads(done.stdout)
    return {problem: results[i * seeds : (i + 1) * seeds] for i, problem in enumerate(problems)}


def median_regrets(runs, minimum, budgets):
    """Median simple regret at each budget over the runs (None past the runs' length)."""
    return {
        t: float(np.median([min(values[:t]) - minimum for values in runs]))
        if all(len(values) >= t for values in runs)
        else None
        for t in budgets
    }


def cell(value):
    return f"{'-':>13}" if value is None else f"{value:>13.4g}"


def option(argv, name, default):
    return argv[argv.index(name) + 1] if name in argv else default


def main(argv):
    seeds = int(option(argv, "--seeds", "20"))
    trials = int(option(argv, "--trials", str(max(BUDGETS))))
    gp_trials = min(trials, int(option(argv, "--gp-trials", "50")))
    budgets = tuple(b for b in BUDGETS if b <= trials) or (trials,)
    methods = [*OURS, *OPTUNA, PEER]
    if "--only" in argv:
        methods = option(argv, "--only", "").split(",")
    if "--no-peer" in argv and PEER in methods:
        methods.remove(PEER)
    # Optuna's own again on other seeds: how far two sets of 20 seeds of the same optimiser
    # differ, the noise the 1.2x comparison has to be read against.
    methods += [f"{method} {RESEEDED}" for method in OPTUNA if method in methods]
    started = time.monotonic()
    tasks = [
        (method, problem, seed, gp_trials if method in GP_BASED else trials)
        for problem in PROBLEMS
        for method in methods
        if method != PEER and not ("cmaes" in method and PROBLEMS[problem][3])
        for seed in (range(1000, 1000 + seeds) if method.endswith(RESEEDED) else range(seeds))
    ]
    with ProcessPoolExecutor() as pool:
        done = dict(zip(tasks, pool.map(run, tasks), strict=True))
    runs = {}
    for (method, problem, _, _), result in done.items():
        runs.setdefault((method, problem), []).append(result)
    if PEER in methods:
        for problem, results in peer_runs(list(PROBLEMS), seeds, gp_trials).items():
            runs[(PEER, problem)] = results
    wall = time.monotonic() - started

    print(f"Median simple regret over {seeds} seeds (lower is better)")
    for problem, (_, minimum, _, _) in PROBLEMS.items():
        print(f"\n{problem}")
        print(f"{'optimiser':<16}" + "".join(f"{f'{t} trials':>13}" for t in budgets))
        rows = {}
        for method in methods:
            if (method, problem) in runs:
                values = [v for v, _ in runs[(method, problem)]]
                rows[method] = median_regrets(values, minimum, budgets)
                print(f"{method:<16}" + "".join(cell(rows[method][t]) for t in budgets))
        for ours in ("tpe", "cmaes"):
            theirs = f"optuna {ours}"
            if ours in rows and theirs in rows:
                ratios = [rows[ours][t] / max(rows[theirs][t], 1e-12) for t in budgets]
                text = ", ".join(f"{t}: {r:.3g}" for t, r in zip(budgets, ratios, strict=True))
                print(f"our {ours} / Optuna's own: {text} (target <= 1.2)")
            if theirs in rows and f"{theirs} {RESEEDED}" in rows:
                ratios = [
                    rows[f"{theirs} {RESEEDED}"][t] / max(rows[theirs][t], 1e-12) for t in budgets
                ]
                text = ", ".join(f"{t}: {r:.3g}" for t, r in zip(budgets, ratios, strict=True))
                print(f"noise: Optuna's own {ours}, other seeds / these seeds: {text}")
    print("\nCPU seconds per optimiser (all problems and seeds)")
    for method in methods:
        cpu = sum(c for (m, _), results in runs.items() if m == method for _, c in results)
        print(f"{method:<16}{cpu:>10.1f}")
    print(f"wall time {wall:.0f} s on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main(sys.argv[1:])
