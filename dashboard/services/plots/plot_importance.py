"""The param importance plot: permutation importance of a random forest fitted to the params."""

from collections import OrderedDict

import numpy as np

from dashboard.services.plots.plot_samples import param_axes
from dashboard.services.plots.plot_values import category

MIN_IMPORTANCE_EXPERIMENTS = 5
# The forest is fitted on at most this many experiments (an even sample of larger groups),
# which keeps the fit to about two seconds on a 10,000-experiment group.
MAX_IMPORTANCE_ROWS = 1000
FOREST_TREES = 50
SHUFFLES = 5
IMPORTANCE_CACHE_SIZE = 32
_IMPORTANCE_CACHE = OrderedDict()  # (group id, metric, ((id, value), ...)) -> importance data


def _features(group, results):
    """The design matrix: numeric params as they are, categorical ones one-hot encoded."""
    columns, groups_ = [], []
    for axis in param_axes(group, results):
        name = axis["name"]
        if axis["kind"] == "numeric":
            columns.append([float(r.params.get(name, axis["min"])) for r in results])
            groups_.append((name, [len(columns) - 1]))
        else:
            indices = []
            for value in axis["categories"]:
                columns.append(
                    [
                        1.0 if name in r.params and category(r.params[name]) == value else 0.0
                        for r in results
                    ]
                )
                indices.append(len(columns) - 1)
            groups_.append((name, indices))
    return np.array(columns).T if columns else np.zeros((len(results), 0)), groups_


def _r2(model, features, target):
    residual = ((target - model.predict(features)) ** 2).sum()
    total = ((target - target.mean()) ** 2).sum()
    return 1.0 - residual / total if total else 0.0


def importance_plot(group, results, metric):
    """Permutation importance per param, fitted on the finished experiments of the sample (kept
    per process for the same experiments and values)."""
    done = [r for r in results if r.finished and r.value is not None]
    if len(done) < MIN_IMPORTANCE_EXPERIMENTS:
        return {
            "applicable": False,
            "features": [],
            "method": None,
            "message": f"Param importance needs at least {MIN_IMPORTANCE_EXPERIMENTS} finished "
            f"experiments with a value of {metric}; this group has {len(done)}.",
        }
    if len(done) > MAX_IMPORTANCE_ROWS:
        step = len(done) / MAX_IMPORTANCE_ROWS
        done = [done[int(i * step)] for i in range(MAX_IMPORTANCE_ROWS)]
    # The fit is seeded, so the same experiments and values give the same answer: a running
    # group's plots, refreshed every few seconds, refit only when a new result has come in.
    key = (group.id, metric, tuple((r.id, r.value) for r in done))
    if key not in _IMPORTANCE_CACHE:
        _IMPORTANCE_CACHE[key] = _fit_importance(group, done, metric)
        while len(_IMPORTANCE_CACHE) > IMPORTANCE_CACHE_SIZE:
            _IMPORTANCE_CACHE.popitem(last=False)
    _IMPORTANCE_CACHE.move_to_end(key)
    return _IMPORTANCE_CACHE[key]


def _fit_importance(group, done, metric):
    from sklearn.ensemble import RandomForestRegressor  # slow to import: only when needed

    features, groups_ = _features(group, done)
    target = np.array([r.value for r in done])
    method = (
        f"Permutation importance: how much the R² of a random forest ({FOREST_TREES} trees) "
        f"fitted to the params (categorical ones one-hot encoded) → {metric} drops when a "
        f"param's values are shuffled, mean of {SHUFFLES} shuffles over {len(done)} "
        "finished experiments."
    )
    if not groups_:
        return {"features": [], "method": method, "message": "The group has no varying params."}
    model = RandomForestRegressor(n_estimators=FOREST_TREES, random_state=0, n_jobs=1)
    model.fit(features, target)
    baseline, rng = _r2(model, features, target), np.random.default_rng(0)
    importances = []
    for name, indices in groups_:
        drops = []
        for _ in range(SHUFFLES):
            shuffled = features.copy()
            shuffled[:, indices] = features[rng.permutation(len(done))][:, indices]
            drops.append(baseline - _r2(model, shuffled, target))
        importances.append(
            {"name": name, "importance": float(np.mean(drops)), "std": float(np.std(drops))}
        )
    importances.sort(key=lambda item: -item["importance"])
    return {"features": importances, "method": method, "fit_r2": float(baseline)}
