import CoreMetrics
import Foundation
public import Prometheus
import Synchronization
import WharfCore
import WharfRuntime
public import WharfServing

/// Watches every inference request: Prometheus metrics (through swift-metrics, with swift-prometheus
/// as the backend) and sliding windows per model and version. Instruments are made once per model,
/// version, API and status code and kept, so recording a request is a dictionary lookup under a
/// lock plus a few atomic increments.
public final class ServingMonitor: InferenceObserver, Sendable {
    /// The Prometheus registry `/metrics` renders.
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    /// Window lengths reported (`1m`, `5m` by default).
    public let windows: [Duration]
    private let resolution: Duration
    private let instruments = Mutex<[InstrumentKey: VersionInstruments]>([:])
    private let windowsByVersion = Mutex<[VersionKey: SlidingWindow]>([:])
    private let process: ProcessSampler
    /// Off: `record` does nothing (the metrics-cost benchmark's baseline).
    public let enabled: Bool

    /// - Parameters:
    ///   - windows: the windows reported (the longest is also the longest an alert rule can use).
    ///   - resolution: the windows' bucket width; a window is exact to within one bucket.
    public init(windows: [Duration] = [.seconds(60), .seconds(300)], resolution: Duration = .seconds(1), enabled: Bool = true) {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2500), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        ]
        factory.defaultValueHistogramBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
        self.factory = factory
        self.windows = windows.sorted()
        self.resolution = resolution
        self.enabled = enabled
        process = ProcessSampler(registry: registry)
    }

    struct VersionKey: Hashable, Sendable {
        var model: String
        var version: Int64?
    }

    struct InstrumentKey: Hashable, Sendable {
        var model: String
        var version: Int64?
        var api: String
        var status: Int
    }

    /// The instruments of one model, version, API and status code.
    final class VersionInstruments: Sendable {
        let requests: CoreMetrics.Counter
        let modelErrors: CoreMetrics.Counter
        let latency: CoreMetrics.Timer
        let queue: CoreMetrics.Timer
        let compute: CoreMetrics.Timer
        let batchSize: CoreMetrics.Recorder
        let cacheHits: CoreMetrics.Counter
        let cacheMisses: CoreMetrics.Counter
        /// The model version's windows (shared by its APIs and status codes).
        let window: SlidingWindow

        init(_ key: InstrumentKey, factory: any MetricsFactory, window: SlidingWindow) {
            self.window = window
            let version = key.version.map(String.init) ?? ""
            let base = [("model", key.model), ("version", version)]
            requests = Counter(label: "wharf_requests_total", dimensions: base + [("api", key.api), ("code", String(key.status))], factory: factory)
            modelErrors = Counter(label: "wharf_model_errors_total", dimensions: base, factory: factory)
            latency = Timer(label: "wharf_request_duration_seconds", dimensions: base + [("api", key.api)], factory: factory)
            queue = Timer(label: "wharf_request_queue_seconds", dimensions: base, factory: factory)
            compute = Timer(label: "wharf_request_compute_seconds", dimensions: base, factory: factory)
            batchSize = Recorder(label: "wharf_batch_size", dimensions: base, aggregate: true, factory: factory)
            cacheHits = Counter(label: "wharf_cache_hits_total", dimensions: base, factory: factory)
            cacheMisses = Counter(label: "wharf_cache_misses_total", dimensions: base, factory: factory)
        }
    }

    // MARK: Recording

    /// The model label of requests for models the server does not have (so that made-up names
    /// cannot grow the number of series without bound).
    public static let unknownModel = "_unknown"

    public func record(_ record: InferenceRecord) {
        guard enabled else { return }
        var record = record
        if record.version == nil && record.status == 404 { record.model = Self.unknownModel }
        let key = InstrumentKey(model: record.model, version: record.version, api: record.api, status: record.status)
        let instruments = self.instruments.withLock { table in table[key] } ?? makeInstruments(key)
        instruments.requests.increment()
        if record.modelFailed { instruments.modelErrors.increment() }
        instruments.latency.recordNanoseconds(record.duration.nanoseconds)
        if let timing = record.timing {
            if timing.cacheHit {
                instruments.cacheHits.increment()
            } else {
                if timing.cacheLookedUp { instruments.cacheMisses.increment() }
                instruments.queue.recordNanoseconds(timing.queue.nanoseconds)
                instruments.compute.recordNanoseconds(timing.compute.nanoseconds)
                if timing.leadsBatch { instruments.batchSize.record(timing.batchSize) }
            }
        }
        instruments.window.record(latency: record.duration, error: record.isError)
    }

    /// The instruments of `key`, made on its first request (the window lock is taken outside the
    /// instruments' lock).
    private func makeInstruments(_ key: InstrumentKey) -> VersionInstruments {
        let window = window(VersionKey(model: key.model, version: key.version))
        let factory = self.factory
        return instruments.withLock { table in
            if let existing = table[key] { return existing }
            let made = VersionInstruments(key, factory: factory, window: window)
            table[key] = made
            return made
        }
    }

    private func window(_ key: VersionKey) -> SlidingWindow {
        let span = windows.last ?? .seconds(300)
        let resolution = self.resolution
        return windowsByVersion.withLock { table in
            if let existing = table[key] { return existing }
            let made = SlidingWindow(resolution: resolution, span: span)
            table[key] = made
            return made
        }
    }

    // MARK: Reading

    /// One model version's windows.
    public struct VersionWindows: Sendable, Codable, Equatable {
        public var model: String
        public var version: Int64?
        /// By window name (`1m`, `5m`).
        public var windows: [String: WindowStats]
    }

    /// The windows of every model and version seen, sorted by model then version.
    public func windowStats(at now: Int64 = SlidingWindow.now()) -> [VersionWindows] {
        let table = windowsByVersion.withLock { $0 }
        return table.keys.sorted { ($0.model, $0.version ?? -1) < ($1.model, $1.version ?? -1) }.map { key in
            var result: [String: WindowStats] = [:]
            for window in windows { result[Self.name(window)] = table[key]!.stats(window: window, at: now) }
            return VersionWindows(model: key.model, version: key.version, windows: result)
        }
    }

    /// The statistics of one model version over `window`.
    public func stats(model: String, version: Int64?, window: Duration, at now: Int64 = SlidingWindow.now()) -> WindowStats? {
        windowsByVersion.withLock { $0[VersionKey(model: model, version: version)] }?.stats(window: window, at: now)
    }

    /// The model versions with a window.
    public var observedVersions: [(model: String, version: Int64?)] {
        windowsByVersion.withLock { Array($0.keys) }.map { ($0.model, $0.version) }
    }

    /// `60s` → `1m`, `300s` → `5m`, `90s` → `90s`.
    public static func name(_ window: Duration) -> String {
        let seconds = window.components.seconds
        if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }

    /// The Prometheus text exposition of every metric, with the gauges read from `manager` now.
    public func exposition(manager: ModelManager?) async -> [UInt8] {
        if let manager { await updateGauges(manager) }
        process.sample()
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 << 10)
        registry.emit(into: &buffer)
        return buffer
    }

    /// The process's resident memory now (bytes).
    public var residentMemory: Int { process.residentMemory() }

    private func gauge(_ name: String, _ unit: String, _ help: String, _ labels: [(String, String)]) -> Prometheus.Gauge {
        registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "wharf", metricName: name, unitName: unit, helpText: help), labels: labels)
    }

    private func updateGauges(_ manager: ModelManager) async {
        var seen = Set<String>()
        for servable in manager.readyServables() {
            let labels = [("model", servable.name), ("version", String(servable.version))]
            gauge("inflight", "requests", "Requests holding the version now.", labels).set(to: Double(servable.inFlight))
            gauge("queued", "requests", "Requests waiting in the version's queue.", labels).set(to: Double(servable.queueDepth))
            gauge("model_load", "seconds", "How long the version took to load.", labels).set(to: servable.loadTime.seconds)
            gauge("model_warmup", "seconds", "How long the version's warm-up took.", labels).set(to: servable.warmupTime.seconds)
            let runtime = "\(servable.model.runtime)"
            if seen.insert(runtime).inserted {
                gauge("runtime", "info", "The inference runtimes in use, by version.", [("runtime", runtime), ("version", servable.model.metadata["runtime_version"] ?? "")])
                    .set(to: 1)
            }
        }
        for model in await manager.status() {
            for version in model.versions {
                for state in VersionState.allCases {
                    gauge("model_state", "", "1 for the state each version is in.", [("model", model.name), ("version", String(version.version)), ("state", state.rawValue)])
                        .set(to: version.state == state ? 1 : 0)
                }
            }
        }
    }
}
