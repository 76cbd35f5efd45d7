"""Sequential requests over one keep-alive connection, for numbers wrk cannot give: the server's
own timing breakdown (Server-Timing), first-request latency, cache hit against miss.

  client.py overhead PORT PATH BODY [HEADER_LENGTH] [N]   -> p50/p99 of (total - compute) and total, µs
  client.py first PORT PATH BODY                          -> latency of one request, ms
  client.py cache PORT BODY_JSON N                        -> p50 latency of hits and of misses, µs
"""

import http.client
import json
import statistics
import sys
import time


def request(connection, path, body, header_length=None, timing=True):
    headers = {"Content-Type": "application/octet-stream" if header_length else "application/json"}
    if header_length:
        headers["Inference-Header-Content-Length"] = header_length
    if timing:
        headers["X-Wharf-Timing"] = "1"
    start = time.perf_counter()
    connection.request("POST", path, body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    elapsed = time.perf_counter() - start
    if response.status != 200:
        raise SystemExit(f"{path}: HTTP {response.status}")
    parts = {}
    for part in (response.getheader("Server-Timing") or "").split(","):
        if ";dur=" in part:
            name, value = part.strip().split(";dur=")
            parts[name] = float(value) * 1000  # ms -> µs
    return elapsed, parts, response.getheader("X-Wharf-Cache")


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, round((len(values) - 1) * p))]


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    connection = http.client.HTTPConnection("127.0.0.1", port)
    if mode == "overhead":
        path, body = sys.argv[3], open(sys.argv[4], "rb").read()
        header_length = sys.argv[5] if len(sys.argv) > 5 and sys.argv[5] != "-" else None
        n = int(sys.argv[6]) if len(sys.argv) > 6 else 3000
        for _ in range(200):
            request(connection, path, body, header_length)
        overhead, total, compute = [], [], []
        for _ in range(n):
            _, parts, _ = request(connection, path, body, header_length)
            overhead.append(parts["total"] - parts["compute"])
            total.append(parts["total"])
            compute.append(parts["compute"])
        print(json.dumps({"path": path, "overhead_p50_us": pct(overhead, 0.5), "overhead_p99_us": pct(overhead, 0.99),
                          "total_p50_us": pct(total, 0.5), "compute_p50_us": pct(compute, 0.5), "requests": n}))
    elif mode == "first":
        path, body = sys.argv[3], open(sys.argv[4], "rb").read()
        elapsed, parts, _ = request(connection, path, body)
        second, _, _ = request(connection, path, body)
        print(json.dumps({"path": path, "first_ms": elapsed * 1000, "second_ms": second * 1000,
                          "first_compute_ms": parts.get("compute", 0) / 1000}))
    elif mode == "cache":
        template = json.load(open(sys.argv[3]))
        n = int(sys.argv[4])
        path = "/v2/models/mlp_cached/infer"
        hits, misses = [], []
        base = json.dumps(template).encode()
        request(connection, path, base)
        for i in range(n):
            elapsed, _, cache = request(connection, path, base)
            assert cache == "hit", cache
            hits.append(elapsed * 1e6)
            template["inputs"][0]["data"][0] = float(i + 1) / (n + 1)
            elapsed, _, cache = request(connection, path, json.dumps(template).encode())
            assert cache == "miss", cache
            misses.append(elapsed * 1e6)
        print(json.dumps({"hit_p50_us": pct(hits, 0.5), "miss_p50_us": pct(misses, 0.5), "requests": 2 * n}))


if __name__ == "__main__":
    main()
