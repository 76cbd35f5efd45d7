"""Parses a Prometheus text exposition (stdin) with prometheus_client's own parser and checks that
every histogram is consistent: buckets cumulative and non-decreasing in `le`, the +Inf bucket equal
to _count, _sum present. Prints JSON: {"types": {family: type}, "samples": [[name, labels, value]],
"problems": [...]}; exits 1 when the text does not parse."""

import json
import math
import sys
from collections import defaultdict

from prometheus_client.parser import text_string_to_metric_families


def main():
    text = sys.stdin.read()
    types, samples, problems = {}, [], []
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as error:  # the parser's own complaint is the point
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
        sys.exit(1)
    for family in families:
        types[family.name] = family.type
        series = defaultdict(lambda: {"buckets": [], "count": None, "sum": None})
        for sample in family.samples:
            samples.append([sample.name, sample.labels, sample.value])
            if family.type != "histogram":
                continue
            labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "le"))
            if sample.name.endswith("_bucket"):
                series[labels]["buckets"].append((float(sample.labels["le"]), sample.value))
            elif sample.name.endswith("_count"):
                series[labels]["count"] = sample.value
            elif sample.name.endswith("_sum"):
                series[labels]["sum"] = sample.value
        for labels, parts in series.items():
            where = f"{family.name}{dict(labels)}"
            buckets = sorted(parts["buckets"])
            if not buckets or not math.isinf(buckets[-1][0]):
                problems.append(f"{where}: no +Inf bucket")
                continue
            counts = [count for _, count in buckets]
            if any(later < earlier for earlier, later in zip(counts, counts[1:])):
                problems.append(f"{where}: bucket counts decrease: {counts}")
            if parts["count"] != counts[-1]:
                problems.append(f"{where}: +Inf bucket {counts[-1]} != _count {parts['count']}")
            if parts["sum"] is None or parts["sum"] < 0:
                problems.append(f"{where}: _sum missing or negative")
    print(json.dumps({"types": types, "samples": samples, "problems": problems}))


if __name__ == "__main__":
    main()
