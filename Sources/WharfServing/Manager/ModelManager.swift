import Foundation
public import Logging
import Synchronization
import WharfCore
public import WharfRuntime

/// Keeps the served models in line with the repository: loads the versions each model's policy
/// wants, swaps versions without losing availability (the new one is loaded and ready before the
/// old one stops taking requests; requests in flight finish on the old one), and routes requests.
public actor ModelManager {
    /// Loads one version directory with the model's config. Runs on the loading threads.
    public typealias Loader = @Sendable (_ versionPath: String, _ config: ModelConfig) throws -> any InferenceModel
    /// A check of a version directory before its instances load (once per version, however many
    /// instances it has): a registry artifact's content hash, say.
    public typealias VersionCheck = @Sendable (_ versionPath: String) throws -> Void

    private struct VersionEntry {
        var lifecycle = VersionLifecycle()
        var source: VersionSource
        /// The loaded model while loading finishes, ready, or unloading.
        var servable: Servable?
        /// The fingerprint of the contents that failed to load (not retried until they change).
        var failedFingerprint: Int?
    }

    private struct ModelEntry {
        var source: ModelSource
        var config: ModelConfig
        var configError: String?
        var versions: [Int64: VersionEntry] = [:]
        var explicitlyUnloaded = false
        /// The model disappeared from the repository; drop it once its versions are gone.
        var removed = false
        /// Which source the model comes from (`repository`, `registry`): each source's `apply`
        /// removes only its own models.
        var origin = ModelManager.repositoryOrigin
    }

    /// The origin of models found in model repositories on disk.
    public static let repositoryOrigin = "repository"

    /// What request routing reads without an actor hop.
    private struct Route {
        var servables: [Int64: Servable] = [:]
        var labels: [String: Int64] = [:]
        var states: [Int64: VersionState] = [:]
        var defaultLabel: String?
        var split: TrafficSplit?
    }

    private var models: [String: ModelEntry] = [:]
    private nonisolated let routes = Mutex<[String: Route]>([:])
    private let loader: Loader
    private let versionCheck: VersionCheck?
    private let loadingExecutor: InferenceExecutor
    private let logger: Logger
    /// Continuations waiting for the manager to become idle (no load or unload under way).
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    private var pendingWork = 0

    /// - Parameters:
    ///   - loader: how a version directory becomes a model (default: `ModelManager.runtimeLoader()`).
    ///   - versionCheck: run on a version directory before its instances load.
    ///   - loadingThreads: threads that load models (each version runs requests on its own threads,
    ///     see `PerformanceConfig`, so a slow load never delays requests).
    public init(
        loader: @escaping Loader = ModelManager.runtimeLoader(), versionCheck: VersionCheck? = nil, loadingThreads: Int = 1,
        logger: Logger = Logger(label: "wharf.models")
    ) {
        self.loader = loader
        self.versionCheck = versionCheck
        self.loadingExecutor = InferenceExecutor(threads: loadingThreads)
        self.logger = logger
    }

    /// The standard loader: a version directory's SavedModel or model.onnx, in the runtime the
    /// config prefers when both are there (TensorFlow otherwise).
    public static func runtimeLoader(locator: RuntimeLocator = RuntimeLocator()) -> Loader {
        { versionPath, config in
            let fileManager = FileManager.default
            let hasSavedModel = fileManager.fileExists(atPath: versionPath + "/saved_model.pb")
            let hasONNX = fileManager.fileExists(atPath: versionPath + "/model.onnx")
            var path = versionPath
            if hasSavedModel && hasONNX {
                path = config.runtime == .onnxruntime ? versionPath + "/model.onnx" : versionPath
            }
            return try ModelLoader(locator: locator, options: config.options).load(path: path)
        }
    }

    // MARK: Routing (nonisolated, called on every request)

    /// A lease on the version `selector` picks; the version stays loaded while the lease lives.
    /// `header` reads the request's headers, for a traffic split that is sticky on one.
    public nonisolated func acquire(
        model name: String, _ selector: VersionSelector = .latest, header: (String) -> String? = { _ in nil }
    ) throws(ServingError) -> ServableLease {
        try routes.withLock { (table: inout [String: Route]) throws(ServingError) -> ServableLease in
            guard let route = table[name] else {
                throw ServingError(.modelNotFound, "Servable not found for request: \(ModelManager.describe(name, selector))")
            }
            let version: Int64
            switch selector {
            case .latest:
                if let split = route.split, let target = route.labels[split.label], route.servables[target] != nil,
                    split.choosesSplit(stickyValue: split.stickyHeader.flatMap(header))
                {
                    version = target
                    break
                }
                if let label = route.defaultLabel, let labelled = route.labels[label] {
                    version = labelled
                    break
                }
                guard let highest = route.servables.keys.max() else {
                    let states = route.states.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.rawValue)" }
                    throw ServingError(
                        .notReady,
                        "model '\(name)' has no version ready\(states.isEmpty ? "" : " (versions: \(states.joined(separator: ", ")))")")
                }
                version = highest
            case .number(let number):
                version = number
            case .label(let label):
                guard let labelled = route.labels[label] else {
                    throw ServingError(.labelNotFound, "Unrecognized servable version label: \(label) (model '\(name)' has labels: \(route.labels.keys.sorted().joined(separator: ", ")))")
                }
                version = labelled
            }
            guard let servable = route.servables[version] else {
                if let state = route.states[version] {
                    throw ServingError(.notReady, "version \(version) of model '\(name)' is \(state.rawValue), not READY")
                }
                throw ServingError(.versionNotFound, "Servable not found for request: \(ModelManager.describe(name, selector))")
            }
            return ServableLease(servable)
        }
    }

    private static func describe(_ name: String, _ selector: VersionSelector) -> String {
        switch selector {
        case .latest: "Latest(\(name))"
        case .number(let version): "Specific(\(name), \(version))"
        case .label(let label): "Label(\(name), \(label))"
        }
    }

    /// The versions of a model that take requests now, highest first.
    public nonisolated func readyVersions(of name: String) -> [Int64] {
        routes.withLock { $0[name]?.servables.keys.sorted(by: >) ?? [] }
    }

    /// Every READY version's servable (for metrics that read queue depths and in-flight counts).
    public nonisolated func readyServables() -> [Servable] {
        routes.withLock { table in table.values.flatMap { Array($0.servables.values) } }
    }

    /// Names of the models the manager knows.
    public nonisolated var modelNames: [String] { routes.withLock { Array($0.keys).sorted() } }

    // MARK: Status

    /// Every model's status, sorted by name.
    public func status() -> [ModelStatus] {
        models.keys.sorted().compactMap { status(of: $0) }
    }

    /// One model's status; `nil` for an unknown model.
    public func status(of name: String) -> ModelStatus? {
        guard let entry = models[name] else { return nil }
        let versions = entry.versions.keys.sorted().map { version -> VersionStatus in
            let item = entry.versions[version]!
            return VersionStatus(
                version: version, state: item.lifecycle.state, error: item.lifecycle.error,
                runtime: item.servable?.model.runtime)
        }
        return ModelStatus(
            name: name, versions: versions, labels: entry.config.labels, configError: entry.configError,
            explicitlyUnloaded: entry.explicitlyUnloaded)
    }

    /// Whether the loads of the first repository scan have all finished (see `finishStartup`).
    private var startupFinished = false

    /// Waits for the loads the first scan started, then lets readiness turn true: a server is not
    /// ready while versions it was started with are still loading, even if one version serves.
    public func finishStartup() async {
        await waitUntilIdle()
        startupFinished = true
    }

    /// Ready means start-up loading is over and every model the repository holds (and was not
    /// explicitly unloaded) has a READY version.
    public func isReady() -> Bool {
        startupFinished && models.values.allSatisfy { entry in
            entry.explicitlyUnloaded || entry.removed || entry.versions.values.contains { $0.lifecycle.state == .ready }
        }
    }

    // MARK: Reconciling with the repository

    /// Brings the served versions in line with `sources` (the models on disk whose version
    /// directories are complete). Loads start in the background; `waitUntilIdle()` waits for them.
    /// `origin` names where the sources come from: models of that origin missing from `sources`
    /// are removed, models of other origins are left alone.
    public func apply(_ sources: [String: ModelSource], origin: String = ModelManager.repositoryOrigin) {
        for (name, source) in sources {
            var entry = models[name] ?? ModelEntry(source: source, config: ModelConfig())
            entry.source = source
            entry.removed = false
            entry.origin = origin
            switch source.config {
            case .success(let config):
                entry.config = config
                entry.configError = nil
            case .failure(let error):
                if entry.configError != error.message {
                    logger.error("model config rejected; keeping the previous one", metadata: ["model.name": "\(name)", "error": "\(error.message)"])
                }
                entry.configError = error.message
            }
            models[name] = entry
            if !entry.explicitlyUnloaded { reconcile(name) }
        }
        for name in models.keys where sources[name] == nil && models[name]?.origin == origin {
            models[name]?.removed = true
            reconcile(name)
        }
        publishRoutes()
    }

    /// Loads a model again after an explicit unload (repository API), from `source` when given.
    public func load(_ name: String, source: ModelSource?) throws(ServingError) {
        if let source {
            apply([name: source].merging(models.compactMapValues { $0.removed || $0.origin != ModelManager.repositoryOrigin ? nil : $0.source }) { new, _ in new })
        }
        guard models[name] != nil else {
            throw ServingError(.modelNotFound, "no model '\(name)' in the model repository")
        }
        models[name]?.explicitlyUnloaded = false
        for version in models[name]!.versions.keys { models[name]!.versions[version]!.failedFingerprint = nil }
        reconcile(name)
        publishRoutes()
    }

    /// Unloads every version of a model and keeps it unloaded until `load` (repository API).
    public func unload(_ name: String) throws(ServingError) {
        guard models[name] != nil else {
            throw ServingError(.modelNotFound, "no model '\(name)' is loaded or in the model repository")
        }
        models[name]?.explicitlyUnloaded = true
        reconcile(name)
        publishRoutes()
    }

    /// Waits until no load or unload is under way.
    public func waitUntilIdle() async {
        if pendingWork == 0 { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }

    /// Unloads everything and stops the threads (server shutdown).
    public func shutdown() async {
        for name in models.keys {
            models[name]?.explicitlyUnloaded = true
            reconcile(name)
        }
        publishRoutes()
        await waitUntilIdle()
        try? await loadingExecutor.shutdown()
    }

    /// Starts the loads and unloads that move `name` towards its desired versions.
    private func reconcile(_ name: String) {
        guard var entry = models[name] else { return }
        let available = Array(entry.source.versions.keys)
        let desired: Set<Int64> = (entry.explicitlyUnloaded || entry.removed) ? [] : entry.config.versionPolicy.select(from: available)

        for version in desired {
            let source = entry.source.versions[version]!
            var item = entry.versions[version] ?? VersionEntry(source: source)
            if item.lifecycle.state == .unavailable, item.failedFingerprint == source.fingerprint { continue }
            item.source = source
            if item.lifecycle.state == .unavailable { item.failedFingerprint = nil }
            let action = item.lifecycle.handle(.load)
            entry.versions[version] = item
            if action == .startLoading { startLoad(name, version: version, source: source, config: entry.config) }
        }

        // Availability-preserving: versions leave only once a wanted version is ready and none is
        // still loading, or when nothing is wanted any more (model removed or unloaded).
        let wantedStates = desired.compactMap { entry.versions[$0]?.lifecycle.state }
        let canRetire = desired.isEmpty || (wantedStates.contains(.ready) && !wantedStates.contains(.loading))
        for (version, item) in entry.versions where !desired.contains(version) {
            switch item.lifecycle.state {
            case .ready where canRetire, .loading:
                var updated = item
                let action = updated.lifecycle.handle(.unload)
                entry.versions[version] = updated
                if action == .withdraw, let servable = updated.servable { startDrain(name, version: version, servable: servable) }
            case .unavailable:
                entry.versions[version] = nil
            default:
                continue
            }
        }
        if entry.removed && entry.versions.isEmpty {
            models[name] = nil
        } else {
            models[name] = entry
        }
    }

    private func startLoad(_ name: String, version: Int64, source: VersionSource, config: ModelConfig) {
        pendingWork += 1
        logger.info("loading model version", metadata: ["model.name": "\(name)", "model.version": "\(version)", "path": "\(source.path)"])
        let loader = self.loader
        let versionCheck = self.versionCheck
        let executor = loadingExecutor
        let logger = self.logger
        Task {
            let result: Result<Servable, any Error>
            do {
                result = .success(try await executor.run {
                    try versionCheck?(source.path)
                    return try Servable.load(name: name, version: version, path: source.path, config: config, loader: loader, logger: logger)
                })
            } catch {
                result = .failure(error)
            }
            self.finishLoad(name, version: version, source: source, result: result)
        }
    }

    private func finishLoad(_ name: String, version: Int64, source: VersionSource, result: Result<Servable, any Error>) {
        defer { workFinished() }
        guard var item = models[name]?.versions[version] else {
            if case .success(let servable) = result { servable.shutdown() }
            return
        }
        switch result {
        case .success(let servable):
            let action = item.lifecycle.handle(.loadSucceeded)
            if action == .publish { item.servable = servable } else { servable.shutdown() }
            models[name]?.versions[version] = item
            logger.info("model version ready", metadata: [
                "model.name": "\(name)", "model.version": "\(version)", "runtime": "\(servable.model.runtime)",
                "instances": "\(servable.performance.instances)", "load.seconds": "\(servable.loadTime)",
                "warmup.seconds": "\(servable.warmupTime)",
            ])
        case .failure(let error):
            _ = item.lifecycle.handle(.loadFailed(String(describing: error)))
            item.failedFingerprint = source.fingerprint
            models[name]?.versions[version] = item
            logger.error("model version failed to load", metadata: ["model.name": "\(name)", "model.version": "\(version)", "error": "\(error)"])
        }
        reconcile(name)
        publishRoutes()
    }

    private func startDrain(_ name: String, version: Int64, servable: Servable) {
        pendingWork += 1
        logger.info("unloading model version", metadata: ["model.name": "\(name)", "model.version": "\(version)"])
        Task {
            // The route no longer hands out this version (publishRoutes runs right after); wait for
            // the requests that already hold it.
            while servable.inFlight > 0 { try? await Task.sleep(for: .milliseconds(2)) }
            self.finishDrain(name, version: version)
        }
    }

    private func finishDrain(_ name: String, version: Int64) {
        defer { workFinished() }
        guard var item = models[name]?.versions[version] else { return }
        _ = item.lifecycle.handle(.drained)
        item.servable?.shutdown()
        item.servable = nil
        models[name]?.versions[version] = item
        logger.info("model version unloaded", metadata: ["model.name": "\(name)", "model.version": "\(version)"])
        reconcile(name)
        publishRoutes()
    }

    private func workFinished() {
        pendingWork -= 1
        if pendingWork == 0 {
            let waiters = idleWaiters
            idleWaiters = []
            for waiter in waiters { waiter.resume() }
        }
    }

    /// Rebuilds the routing table from the entries: only READY versions take requests. A label
    /// moved to a version that is not ready yet keeps routing to the version it pointed at while
    /// that one is still ready, so that moving a label never fails requests.
    private func publishRoutes() {
        // Only the actor writes the table, so it is built outside the lock every request takes.
        let current = routes.withLock { $0 }
        var next: [String: Route] = [:]
        for (name, entry) in models where !entry.removed || !entry.versions.isEmpty {
            var route = Route(labels: entry.config.labels, defaultLabel: entry.config.defaultLabel, split: entry.config.trafficSplit)
            for (version, item) in entry.versions {
                route.states[version] = item.lifecycle.state
                if item.lifecycle.state == .ready, let servable = item.servable { route.servables[version] = servable }
            }
            for (label, version) in route.labels where route.servables[version] == nil {
                if let previous = current[name]?.labels[label], route.servables[previous] != nil { route.labels[label] = previous }
            }
            next[name] = route
        }
        routes.withLock { $0 = next }
    }
}
