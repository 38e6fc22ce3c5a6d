"""tpe and cmaes: suggestions from Optuna's own TPESampler and CmaEsSampler, through ask-and-tell.

Each call starts a fresh in-memory study and replays the group's experiments into it in id
order, each asked with its own params (so CmaEsSampler files it under its generation, as it
would have live) and told at once: finished with the metric → COMPLETE with its value, finished
without → FAIL, unfinished → left RUNNING, which TPE's constant liar and CMA-ES's population
count as pending, so parallel suggestions differ. Then it asks the new suggestions. The sampler
is seeded from (hptuning.seed, number of experiments so far), so the same seed and the same
trials give the same batch. How the matrix maps to Optuna distributions: sampler_space.py.
"""

import warnings

from .base import iteration_rng, metric_value
from .blocks import parse_metric
from .errors import Problems, SpecError
from .fields import as_int, check_keys, expect_mapping
from .sampler_space import UNKNOWN, space
from .trials import Batch

DEFAULT_N_INITIAL_TRIALS = 10
# CmaEsSampler's default: its first suggestion is random, then CMA-ES samples.
CMAES_STARTUP_TRIALS = 1


def parse_tpe(raw, path):
    """tpe: {n_experiments >= 1, n_initial_trials (default 10, at most n_experiments), metric}.

    An unwritten n_initial_trials is lowered to n_experiments; a written one above it is refused
    (every suggestion would be random).
    """
    raw = expect_mapping(raw, path)
    check_keys(
        raw,
        ("n_experiments", "n_initial_trials", "metric"),
        path,
        required=("n_experiments", "metric"),
    )
    problems = Problems()
    n = problems.check(as_int, raw["n_experiments"], f"{path}.n_experiments", minimum=1)
    initial = raw.get("n_initial_trials")
    if initial is not None:
        initial = problems.check(as_int, initial, f"{path}.n_initial_trials", minimum=1)
        if initial is not None and n is not None and initial > n:
            problems.add(
                f"{path}.n_initial_trials",
                f"must be <= n_experiments ({n}), got {initial}",
            )
    elif n is not None:
        initial = min(DEFAULT_N_INITIAL_TRIALS, n)
    block = {
        "n_experiments": n,
        "n_initial_trials": initial,
        "metric": problems.check(parse_metric, raw["metric"], f"{path}.metric"),
    }
    problems.raise_if_any()
    return block


def parse_cmaes(raw, path):
    """cmaes: {n_experiments >= 1, metric}."""
    raw = expect_mapping(raw, path)
    check_keys(raw, ("n_experiments", "metric"), path, required=("n_experiments", "metric"))
    problems = Problems()
    block = {
        "n_experiments": problems.check(
            as_int, raw["n_experiments"], f"{path}.n_experiments", minimum=1
        ),
        "metric": problems.check(parse_metric, raw["metric"], f"{path}.metric"),
    }
    problems.raise_if_any()
    return block


def next_batch(spec, trials, free):
    """The next suggestions of a tpe or cmaes group: at most `free`, never past n_experiments.

    `spec` needs search_algorithm ("tpe" or "cmaes"), algorithm_block, matrix and seed; `trials`
    are the group's experiments (trials.Trial) in id order. Batch.data: the sampler, the
    suggestions made so far, how many of them are its random startup ones (the first
    n_initial_trials for tpe, the first for cmaes; under concurrency the sampler stays random
    until that many have finished, which `batch_random` counts for this batch), and how the
    experiments so far were told (completed, failed, pending).
    """
    algorithm, block = spec.search_algorithm, spec.algorithm_block
    if algorithm not in ("tpe", "cmaes"):
        raise SpecError.at("hptuning", f"next_batch serves tpe and cmaes, not {algorithm}")
    axes = space(spec.matrix, algorithm)
    trials = sorted(trials, key=lambda trial: trial.id)
    count = max(0, min(free, block["n_experiments"] - len(trials)))
    startup = block["n_initial_trials"] if algorithm == "tpe" else CMAES_STARTUP_TRIALS
    told = _told(trials)
    suggestions, batch_random = [], 0
    if count:
        optuna = _optuna()
        seed = _sampler_seed(spec.seed, len(trials))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study = optuna.create_study(
                direction=block["metric"]["optimization"],
                sampler=_sampler(optuna, algorithm, startup, seed),
            )
            distributions = {name: axis.distribution() for name, axis in axes.items()}
            _replay(optuna, study, trials, axes, distributions, relative=algorithm == "cmaes")
            if told["completed"] < startup:
                batch_random = count
            for _ in range(count):
                trial = study.ask(distributions)
                suggestions.append(
                    {name: axis.decode(trial.params[name]) for name, axis in axes.items()}
                )
    suggested = len(trials) + len(suggestions)
    data = {
        "sampler": algorithm,
        "suggested": suggested,
        "initial": min(suggested, startup),
        "batch_random": batch_random,
        **told,
    }
    return Batch(
        suggestions=suggestions,
        origins=[None] * len(suggestions),
        iteration=suggested,
        data=data,
    )


def _optuna():
    # Imported when a search needs it: optuna takes about a second to import.
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def _sampler_seed(seed, number):
    """The sampler's seed for the call made after `number` experiments (None: unseeded)."""
    if seed is None:
        return None
    return int(iteration_rng(seed, number).integers(2**32))


def _sampler(optuna, algorithm, startup, seed):
    if algorithm == "tpe":
        return optuna.samplers.TPESampler(n_startup_trials=startup, constant_liar=True, seed=seed)
    return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)


def _told(trials):
    """How the experiments so far are told: completed (with the metric), failed, pending."""
    completed = sum(trial.finished and _value(trial) is not None for trial in trials)
    pending = sum(not trial.finished for trial in trials)
    return {"completed": completed, "failed": len(trials) - completed - pending, "pending": pending}


def _value(trial):
    return metric_value(trial.metric)


def _replay(optuna, study, trials, axes, distributions, *, relative):
    """Ask each experiment again with its own params, then tell what became of it.

    `relative`: let the sampler see the ask as its own (CmaEsSampler records the trial's
    generation in sample_relative, which a trial of fixed params never calls by itself).
    An experiment whose params the matrix cannot hold (a value it does not list) is left out.
    """
    state = optuna.trial.TrialState
    for trial in trials:
        params = {name: axis.encode(trial.params.get(name)) for name, axis in axes.items()}
        if any(value is UNKNOWN for value in params.values()):
            continue
        study.enqueue_trial(params)
        asked = study.ask(distributions)
        if relative:
            asked.relative_params  # noqa: B018 (the sampler's own bookkeeping of the ask)
        if not trial.finished:
            continue
        value = _value(trial)
        if value is None:
            study.tell(asked, state=state.FAIL)
        else:
            study.tell(asked, value)
