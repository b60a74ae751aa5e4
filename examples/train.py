"""The demo's training script: a tracked run that versions its input and logs its model.

Run inside a Parity workspace: ``python train.py data/breast_cancer.csv``. It prints the run id.
"""

from __future__ import annotations

import sys

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import parity


def main(table: str) -> None:
    params = {"C": 0.5, "max_iter": 1000, "test_size": 0.25, "seed": 7}
    with parity.start_run(experiment="breast-cancer", name="logreg", params=params) as run:
        run.use_data(table)  # the input's data version (and its profile, for drift checks)
        run.log_seed(params["seed"], "split")  # so a repro knows the run is seeded
        frame = pd.read_csv(table)
        features, target = frame.drop(columns="target"), frame["target"]
        x_train, x_test, y_train, y_test = train_test_split(
            features, target, test_size=params["test_size"], random_state=params["seed"]
        )
        model = make_pipeline(
            StandardScaler(), LogisticRegression(C=params["C"], max_iter=params["max_iter"])
        )
        model.fit(x_train, y_train)
        run.log_metrics(
            {
                "accuracy": float(accuracy_score(y_test, model.predict(x_test))),
                "roc_auc": float(roc_auc_score(y_test, model.predict_proba(x_test)[:, 1])),
            }
        )
        model_id = run.log_model(model, "model", input_example=x_train)
        print(f"run {run.id}  model {model_id[:12]}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "data/breast_cancer.csv")
