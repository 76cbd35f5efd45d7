import Foundation
public import WharfServing

/// What a deployment pipeline does, stage by stage, read from YAML (`wharf deploy --pipeline`);
/// every setting has a default, so no file is needed.
///
/// ```yaml
/// validate: {smoke_rows: 4}
/// convert: {targets: [onnx]}                      # also tflite, tflite-fp16, tflite-int8, tflite-dynamic
/// parity: {max_abs_error: 1e-4, min_top1: 0.99}   # per converted target; overrides the converter's defaults
/// benchmark: {duration_seconds: 3, concurrency: 4, batch_size: 1, max_p95_ms: 500, min_throughput: 1, max_regression: 0.10}
/// staging: {timeout_seconds: 120}
/// canary: {weight: 0.1, duration_seconds: 30, max_error_rate: 0.01, max_p95_ratio: 1.5, min_requests: 0, sticky_header: X-User}
/// ```
public struct PipelineDefinition: Sendable, Equatable, Codable {
    public var smokeRows = 4
    /// Converted artifacts to produce and check (`onnx`, `tflite`, `tflite-fp16`, `tflite-int8`, `tflite-dynamic`).
    public var convertTargets = ["onnx"]
    /// A calibration set for int8 (`.npy` or `.jsonl`).
    public var calibrationData: String?
    /// Parity bounds; `nil` uses the defaults for the target.
    public var parityMaxAbsError: Double?
    public var parityMinTop1: Double?
    public var benchmarkSeconds: Double = 3
    public var benchmarkConcurrency = 4
    public var benchmarkBatchSize = 1
    /// Absolute gates (none when `nil`).
    public var maxP95Milliseconds: Double?
    public var minThroughput: Double?
    /// The candidate may be at most this much slower (p95) or lower (throughput) than production.
    public var maxRegression: Double = 0.10
    public var stagingTimeoutSeconds: Double = 120
    public var canaryEnabled = true
    public var canaryWeight: Double = 0.1
    public var canarySeconds: Double = 30
    public var canaryMaxErrorRate: Double = 0.01
    public var canaryMaxP95Ratio: Double = 1.5
    /// Fewer canary requests than this: no verdict, rolled back (0 promotes a canary nobody used).
    public var canaryMinRequests = 0
    public var canaryStickyHeader: String?

    public init() {}

    public static let knownTargets = ["onnx", "tflite", "tflite-fp16", "tflite-int8", "tflite-dynamic"]

    /// Reads a pipeline file; errors name the file and the key.
    public static func parse(yaml text: String, source: String) throws(ConfigError) -> PipelineDefinition {
        guard let root = try ConfigReader.parse(yaml: text, source: source) else { return PipelineDefinition() }
        let reader = ConfigReader(root, source: source)
        try reader.rejectUnknown(known: ["validate", "convert", "parity", "benchmark", "staging", "canary"])
        var definition = PipelineDefinition()
        let validate = try reader.section("validate", known: ["smoke_rows"])
        definition.smokeRows = try validate.positive("smoke_rows") ?? definition.smokeRows
        let convert = try reader.section("convert", known: ["targets", "calibration_data"])
        if let targets = try convert.stringList("targets") {
            for target in targets where !knownTargets.contains(target) {
                throw ConfigError("\(source): convert.targets: '\(target)' is not one of \(knownTargets.joined(separator: ", "))")
            }
            definition.convertTargets = targets
        }
        definition.calibrationData = try convert.string("calibration_data")
        let parity = try reader.section("parity", known: ["max_abs_error", "min_top1"])
        definition.parityMaxAbsError = try parity.double("max_abs_error")
        definition.parityMinTop1 = try parity.double("min_top1")
        let benchmark = try reader.section("benchmark", known: [
            "duration_seconds", "concurrency", "batch_size", "max_p95_ms", "min_throughput", "max_regression",
        ])
        definition.benchmarkSeconds = try benchmark.double("duration_seconds") ?? definition.benchmarkSeconds
        definition.benchmarkConcurrency = try benchmark.positive("concurrency") ?? definition.benchmarkConcurrency
        definition.benchmarkBatchSize = try benchmark.positive("batch_size") ?? definition.benchmarkBatchSize
        definition.maxP95Milliseconds = try benchmark.double("max_p95_ms")
        definition.minThroughput = try benchmark.double("min_throughput")
        definition.maxRegression = try benchmark.double("max_regression") ?? definition.maxRegression
        let staging = try reader.section("staging", known: ["timeout_seconds"])
        definition.stagingTimeoutSeconds = try staging.double("timeout_seconds") ?? definition.stagingTimeoutSeconds
        let canary = try reader.section("canary", known: [
            "enabled", "weight", "duration_seconds", "max_error_rate", "max_p95_ratio", "min_requests", "sticky_header",
        ])
        definition.canaryEnabled = try canary.bool("enabled") ?? true
        definition.canaryWeight = try canary.double("weight") ?? definition.canaryWeight
        guard (0...1).contains(definition.canaryWeight) else {
            throw ConfigError("\(source): canary.weight expects 0 to 1, got \(definition.canaryWeight)")
        }
        definition.canarySeconds = try canary.double("duration_seconds") ?? definition.canarySeconds
        definition.canaryMaxErrorRate = try canary.double("max_error_rate") ?? definition.canaryMaxErrorRate
        definition.canaryMaxP95Ratio = try canary.double("max_p95_ratio") ?? definition.canaryMaxP95Ratio
        definition.canaryMinRequests = try canary.int("min_requests") ?? definition.canaryMinRequests
        definition.canaryStickyHeader = try canary.string("sticky_header")
        guard definition.benchmarkSeconds > 0, definition.canarySeconds >= 0, definition.stagingTimeoutSeconds > 0 else {
            throw ConfigError("\(source): durations must be positive")
        }
        return definition
    }

    public static func load(path: String) throws(ConfigError) -> PipelineDefinition {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ConfigError("\(path): cannot read the file") }
        return try parse(yaml: text, source: path)
    }
}
