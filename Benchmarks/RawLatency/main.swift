// Raw per-call latency of Wharf's runtime backends, and a leak check.
//
//   wharf-rawbench latency FIXTURES_DIR [ITERATIONS]   one JSON line per (runtime, model, batch)
//   wharf-rawbench leak FIXTURES_DIR [COUNT]           RSS before/after COUNT inferences per runtime
//
// scripts/bench-raw runs this beside python/bench_raw.py (the same calls from Python) in one run.
import Foundation
import WharfCore
import WharfRuntime

struct Workload {
    let model: String
    let input: String
    let rowShape: [Int]
}

let workloads = [
    Workload(model: "mlp", input: "pixels", rowShape: [784]),
    Workload(model: "cnn", input: "image", rowShape: [32, 32, 3]),
]

func randomTensor(batch: Int, rowShape: [Int]) throws -> Tensor {
    var generator = SystemRandomNumberGenerator()
    let shape = [batch] + rowShape
    let count = shape.reduce(1, *)
    return try Tensor(shape: shape, scalars: (0..<count).map { _ in Float.random(in: 0..<1, using: &generator) })
}

func modelPath(_ fixtures: String, _ model: String, _ runtime: RuntimeKind) -> String {
    runtime == .tensorflow ? "\(fixtures)/\(model)/saved_model" : "\(fixtures)/\(model)/model.onnx"
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

func latency(fixtures: String, iterations: Int) throws {
    let loader = ModelLoader()
    for workload in workloads {
        for runtime in RuntimeKind.allCases {
            let model = try loader.load(path: modelPath(fixtures, workload.model, runtime))
            for batch in [1, 32] {
                let inputs = [workload.input: try randomTensor(batch: batch, rowShape: workload.rowShape)]
                for _ in 0..<max(20, iterations / 20) { _ = try model.run(inputs: inputs) }
                var samples: [Double] = []
                samples.reserveCapacity(iterations)
                let clock = ContinuousClock()
                for _ in 0..<iterations {
                    let start = clock.now
                    _ = try model.run(inputs: inputs)
                    let elapsed = clock.now - start
                    samples.append(Double(elapsed.components.attoseconds) / 1e12 + Double(elapsed.components.seconds) * 1e6)
                }
                samples.sort()
                let mean = samples.reduce(0, +) / Double(samples.count)
                let line: [String: Any] = [
                    "side": "swift", "runtime": runtime.rawValue, "model": workload.model, "batch": batch,
                    "iterations": iterations, "mean_us": mean, "p50_us": percentile(samples, 0.5),
                    "p99_us": percentile(samples, 0.99),
                ]
                let data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
                fflush(nil)
            }
        }
    }
}

func leak(fixtures: String, count: Int) throws {
    let loader = ModelLoader()
    for runtime in RuntimeKind.allCases {
        let model = try loader.load(path: modelPath(fixtures, "mlp", runtime))
        let inputs = ["pixels": try randomTensor(batch: 1, rowShape: [784])]
        // Warm up so allocator pools and kernels are in place before the first reading.
        for _ in 0..<2_000 { _ = try model.run(inputs: inputs) }
        let before = residentMemoryBytes()
        for _ in 0..<count { _ = try model.run(inputs: inputs) }
        let after = residentMemoryBytes()
        let line: [String: Any] = [
            "runtime": runtime.rawValue, "inferences": count, "rss_before_mb": Double(before) / 1_048_576,
            "rss_after_mb": Double(after) / 1_048_576, "growth_mb": Double(after - before) / 1_048_576,
        ]
        let data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
        fflush(nil)
    }
}

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    print("usage: wharf-rawbench latency|leak FIXTURES_DIR [N]")
    exit(2)
}
let fixtures = arguments[2]
switch arguments[1] {
case "latency":
    try latency(fixtures: fixtures, iterations: arguments.count > 3 ? Int(arguments[3]) ?? 2000 : 2000)
case "leak":
    try leak(fixtures: fixtures, count: arguments.count > 3 ? Int(arguments[3]) ?? 100_000 : 100_000)
default:
    print("unknown mode \(arguments[1]); expected latency or leak")
    exit(2)
}
