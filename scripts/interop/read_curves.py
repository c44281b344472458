"""Read a run's exported curves back with TensorBoard and pandas (test/interop/curves.test.ts).

    python scripts/interop/read_curves.py <tensorboard log dir> <metrics.csv> <tag> [<tag> ...]

Prints one JSON object: for every tag, the (step, value) series EventAccumulator reads (scalar events, or
tensor events as tf.node.summaryFileWriter writes them), and the CSV as pandas loads it (columns, dtypes, rows).
"""

import json
import math
import sys

import pandas as pd
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.util import tensor_util


def series(acc, tag):
    tags = acc.Tags()
    if tag in tags.get("scalars", []):
        return [[e.step, e.value] for e in acc.Scalars(tag)]
    if tag in tags.get("tensors", []):
        return [[e.step, float(tensor_util.make_ndarray(e.tensor_proto))] for e in acc.Tensors(tag)]
    raise KeyError(f"tag {tag} is not in the event files: {tags}")


def main():
    log_dir, csv_file, tags = sys.argv[1], sys.argv[2], sys.argv[3:]
    acc = event_accumulator.EventAccumulator(log_dir, size_guidance={event_accumulator.SCALARS: 0, event_accumulator.TENSORS: 0})
    acc.Reload()
    df = pd.read_csv(csv_file)
    print(json.dumps({
        "series": {t: series(acc, t) for t in tags},
        "columns": list(df.columns),
        "dtypes": {c: str(t) for c, t in df.dtypes.items()},
        "rows": len(df),
        "csv": {c: [None if isinstance(v, float) and math.isnan(v) else v for v in df[c].tolist()] for c in df.columns},
    }))


if __name__ == "__main__":
    main()
