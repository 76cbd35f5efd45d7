"""The server's timing breakdown at percentiles, over sequential requests on one keep-alive
connection: for each of p50, p90, p99 and p99.9 of the total, that request's parts (Server-Timing:
read, decode, queue, compute, encode, total) and `gap`, the total minus the parts (hand-overs the
parts do not cover).

  breakdown.py PORT PATH BODY [N] [HEADER_LENGTH]      (HEADER_LENGTH for a V2 binary body)
"""

import http.client
import sys

PARTS = ("read", "decode", "queue", "compute", "encode")


def main():
    port, path, body = int(sys.argv[1]), sys.argv[2], open(sys.argv[3], "rb").read()
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 3000
    headers = {"Content-Type": "application/json", "X-Wharf-Timing": "1"}
    if len(sys.argv) > 5:
        headers["Content-Type"] = "application/octet-stream"
        headers["Inference-Header-Content-Length"] = sys.argv[5]
    connection = http.client.HTTPConnection("127.0.0.1", port)
    samples = []
    for index in range(n + 200):
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"{path}: HTTP {response.status}")
        if index < 200:  # warm-up
            continue
        parts = {}
        for item in response.getheader("Server-Timing").split(","):
            name, value = item.strip().split(";dur=")
            parts[name] = float(value) * 1000  # ms -> µs
        parts["gap"] = parts["total"] - sum(parts[name] for name in PARTS)
        samples.append(parts)
    samples.sort(key=lambda parts: parts["total"])
    for quantile in (0.5, 0.9, 0.99, 0.999):
        parts = samples[int(quantile * (len(samples) - 1))]
        print(f"p{quantile * 100:g}: " + " ".join(f"{name}={parts[name]:.0f}" for name in PARTS + ("total", "gap")))


if __name__ == "__main__":
    main()
