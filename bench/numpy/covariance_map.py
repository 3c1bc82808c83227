"""Python's side of the covariance-map race in bench/risk.bench.ts: json.loads of a snapshot's text,
then its "a,b" covariance map into a numpy matrix in the weights' order, checking every key and
value as our side does. Commands on stdin: "run B" times B parses and prints CPU seconds per parse.
"""

import json
import math
import sys
import time

import numpy as np


def parse(text):
    snapshot = json.loads(text)
    ids = list(snapshot["weights"])
    index = {sid: i for i, sid in enumerate(ids)}
    n = len(ids)
    matrix = np.full((n, n), np.nan)
    for key, value in snapshot["covariance"].items():
        sep = "," if "," in key else ":"
        a, b = key.split(sep)
        i, j = index[a.strip()], index[b.strip()]
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"covariance {key} is not a finite number")
        matrix[i, j] = value
        matrix[j, i] = value
    if np.isnan(matrix).any():
        raise ValueError("covariance is missing pairs")
    return matrix


def main():
    with open(sys.argv[1]) as f:
        text = f.read()
    for line in sys.stdin:
        words = line.split()
        if words and words[0] == "run":
            batch = int(words[1])
            start = time.process_time()
            for _ in range(batch):
                parse(text)
            print((time.process_time() - start) / batch, flush=True)
        elif words and words[0] == "quit":
            return


if __name__ == "__main__":
    main()
