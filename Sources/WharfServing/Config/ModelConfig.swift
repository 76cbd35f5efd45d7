public import WharfCore
public import WharfRuntime
import Yams

/// Per-model settings, read from `wharf.yaml` (or `config.yaml`) in the model's base directory.
///
/// ```yaml
/// version_policy: {latest: 2}      # or: all, or {specific: [1, 3]}; default {latest: 1}
/// labels: {stable: 3, canary: 4}
/// default_label: stable             # requests that name no version go here (default: the highest)
/// traffic_split: {label: canary, weight: 0.1, sticky_header: X-User-Id}   # a share of those to a canary
/// runtime: onnxruntime              # which artifact to serve when a version has both
/// threads: {intra_op: 2, inter_op: 1, allow_spinning: false}
/// optimization: all                 # ONNX Runtime graph optimization level
/// gpu: {allow_growth: true, memory_fraction: 0.5, memory_limit_mb: 1024, visible_devices: [0]}
/// ```
public struct ModelConfig: Sendable, Equatable {
    /// Which of the versions on disk are served.
    public enum VersionPolicy: Sendable, Equatable, CustomStringConvertible {
        /// The N highest version numbers.
        case latest(Int)
        /// Every version on disk.
        case all
        /// Exactly these versions (those of them on disk).
        case specific([Int64])

        /// The versions to serve out of those available.
        public func select(from available: [Int64]) -> Set<Int64> {
            switch self {
            case .latest(let count): Set(available.sorted(by: >).prefix(max(count, 0)))
            case .all: Set(available)
            case .specific(let versions): Set(available).intersection(versions)
            }
        }

        public var description: String {
            switch self {
            case .latest(let count): "latest \(count)"
            case .all: "all"
            case .specific(let versions): "specific \(versions.map(String.init).joined(separator: ","))"
            }
        }
    }

    public var versionPolicy: VersionPolicy
    /// Label → version (TF Serving's version labels).
    public var labels: [String: Int64]
    /// The label whose version serves requests that name no version; `nil` serves the highest
    /// ready version (TF Serving's rule). The registry sets it to `production`.
    public var defaultLabel: String?
    /// A share of the requests that name no version goes to another label (a canary).
    public var trafficSplit: TrafficSplit?
    /// The runtime to prefer when a version directory holds both a SavedModel and model.onnx.
    public var runtime: RuntimeKind?
    /// Session settings for every version of the model.
    public var options: RuntimeOptions
    /// Instances, batching, queue, warm-up and cache.
    public var performance: PerformanceConfig

    public init(
        versionPolicy: VersionPolicy = .latest(1), labels: [String: Int64] = [:], runtime: RuntimeKind? = nil,
        options: RuntimeOptions = RuntimeOptions(), performance: PerformanceConfig = PerformanceConfig()
    ) {
        self.performance = performance
        self.versionPolicy = versionPolicy
        self.labels = labels
        self.runtime = runtime
        self.options = options
    }

    /// The file names a model's config may have, in the order they are looked for.
    public static let fileNames = ["wharf.yaml", "wharf.yml", "config.yaml"]

    /// Parses a model config; errors name the key and say what was expected.
    public static func parse(yaml text: String, source: String = "wharf.yaml") throws(ConfigError) -> ModelConfig {
        guard let root = try ConfigReader.parse(yaml: text, source: source) else { return ModelConfig() }
        let reader = ConfigReader(root, source: source)
        var config = ModelConfig()
        config.versionPolicy = try reader.versionPolicy("version_policy") ?? .latest(1)
        config.labels = try reader.labels("labels")
        config.defaultLabel = try reader.string("default_label")
        if root["traffic_split"] != nil {
            let split = try reader.section("traffic_split", known: ["label", "weight", "sticky_header"])
            guard let label = try split.string("label"), let weight = try split.double("weight") else {
                throw ConfigError("\(source): traffic_split needs a label and a weight")
            }
            guard (0...1).contains(weight) else { throw ConfigError("\(source): traffic_split.weight expects 0 to 1, got \(weight)") }
            config.trafficSplit = TrafficSplit(label: label, weight: weight, stickyHeader: try split.string("sticky_header"))
        }
        if let runtime = try reader.string("runtime") {
            guard let kind = RuntimeKind(rawValue: runtime) else {
                throw ConfigError("\(source): runtime expects tensorflow or onnxruntime, got '\(runtime)'")
            }
            config.runtime = kind
        }
        let threads = try reader.section("threads", known: ["intra_op", "inter_op", "allow_spinning"])
        config.options.intraOpThreads = try threads.int("intra_op") ?? 0
        config.options.interOpThreads = try threads.int("inter_op") ?? 0
        config.options.allowSpinning = try threads.bool("allow_spinning")
        if let level = try reader.string("optimization") {
            guard let parsed = GraphOptimizationLevel(rawValue: level) else {
                throw ConfigError("\(source): optimization expects one of disable_all, basic, extended, all; got '\(level)'")
            }
            config.options.graphOptimization = parsed
        }
        let gpu = try reader.section("gpu", known: ["allow_growth", "memory_fraction", "memory_limit_mb", "visible_devices"])
        config.options.gpu = GPUOptions(
            allowMemoryGrowth: try gpu.bool("allow_growth") ?? false, memoryFraction: try gpu.double("memory_fraction"),
            memoryLimitMB: try gpu.int("memory_limit_mb"), visibleDevices: try gpu.intList("visible_devices"))
        config.performance = try reader.performance()
        try reader.rejectUnknown(known: [
            "version_policy", "labels", "default_label", "traffic_split", "runtime", "threads", "optimization", "gpu", "instances", "max_queue_size",
            "worker_spin_micros", "dynamic_batching", "warmup", "response_cache",
        ])
        return config
    }
}

/// Sends a share of the requests that name no version to another label's version: a canary.
public struct TrafficSplit: Sendable, Equatable {
    /// The label that gets the share (`canary`).
    public var label: String
    /// The share, 0 to 1.
    public var weight: Double
    /// With a header name, requests carrying the same value of that header always go the same way
    /// (a user stays on one version); without, each request is drawn at random.
    public var stickyHeader: String?

    public init(label: String, weight: Double, stickyHeader: String? = nil) {
        self.label = label
        self.weight = weight
        self.stickyHeader = stickyHeader
    }

    /// Whether a request goes to the split's label: by the sticky header's value when there is
    /// one (the same value, the same answer), else at random.
    public func choosesSplit(stickyValue: String?) -> Bool {
        guard weight > 0 else { return false }
        guard weight < 1 else { return true }
        guard let stickyValue else { return Double.random(in: 0..<1) < weight }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in stickyValue.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return Double(hash % 10_000) / 10_000 < weight
    }
}

/// A configuration file that cannot be used; the message names the file, the key and the problem.
public struct ConfigError: WharfError, Sendable, Equatable {
    public let message: String
    public var cause: (any Error)? { nil }
    public var status: StatusCode { .invalidArgument }

    public init(_ message: String) { self.message = message }
}
