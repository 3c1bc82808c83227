"""Python's side of the covariance-map race in bench/covariance-parsing.ts: json.loads of the event's
snapshot text and of its covariance_ref's text (the "a,b" map), then the map into a numpy matrix in
the weights' order, checking every key and value and that no pair is missing, as our side does.
Commands on stdin: "run B" times B parses and prints CPU seconds per parse.
"""

import json
import math
import os
import sys
import time

import numpy as np


def parse(event_text, map_text):
    snapshot = json.loads(event_text)
    ids = list(snapshot["weights"])
    index = {sid: i for i, sid in enumerate(ids)}
    n = len(ids)
    matrix = np.full((n, n), np.nan)
    for key, value in json.loads(map_text).items():
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
    with open(os.path.join(sys.argv[1], "event.json")) as f:
        event_text = f.read()
    with open(os.path.join(sys.argv[1], "covariance.json")) as f:
        map_text = f.read()
    for line in sys.stdin:
        words = line.split()
        if words and words[0] == "run":
            batch = int(words[1])
            start = time.process_time()
            for _ in range(batch):
                parse(event_text, map_text)
            print((time.process_time() - start) / batch, flush=True)
        elif words and words[0] == "quit":
            return


if __name__ == "__main__":
    main()
