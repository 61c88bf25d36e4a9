"""Reads a prism MLflow export with MLflow's own client: the check behind `just test-mlflow`.

Run: python tests/reference/mlflow_check.py <sweep>/mlruns <expected-runs>   (needs mlflow-skinny)
Prints each run's name, status and a few params and metrics, and fails unless MLflow finds
the expected number of runs, each with params, metrics and prism's tags.
"""
import os
import sys

# MLflow 3.x keeps the file store in maintenance mode behind this switch (or migrate it with
# `mlflow migrate-filestore` to sqlite); the format itself is unchanged.
os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
from mlflow.tracking import MlflowClient  # noqa: E402

root, expected = os.path.abspath(sys.argv[1]), int(sys.argv[2])
client = MlflowClient(tracking_uri="file://" + root)
experiments = [e for e in client.search_experiments() if e.experiment_id != "0"]
assert len(experiments) == 1, [e.name for e in experiments]
exp = experiments[0]
runs = client.search_runs([exp.experiment_id], max_results=10000)
print(f"experiment {exp.name!r} (id {exp.experiment_id}): {len(runs)} runs")
assert len(runs) == expected, f"{len(runs)} runs, expected {expected}"
for r in runs:
    assert r.data.params, r.info.run_id
    assert r.data.tags.get("prism.run_id"), r.info.run_id
    assert r.info.status in ("FINISHED", "FAILED", "RUNNING", "SCHEDULED"), r.info.status
for r in sorted(runs, key=lambda r: r.info.run_name)[:3]:
    some = {k: round(v, 4) for k, v in sorted(r.data.metrics.items())[:3]}
    print(r.info.run_name, r.info.status, r.data.params["strategy"], r.data.params["size"], some)
finished = [r for r in runs if r.info.status == "FINISHED"]
assert all(r.data.metrics for r in finished)
# The MLflow query language works on the exported fields.
best = client.search_runs([exp.experiment_id], order_by=["metrics.`metric.distinct-2` DESC"], max_results=1)
print("highest distinct-2:", best[0].info.run_name if best else None)
print("ok")
