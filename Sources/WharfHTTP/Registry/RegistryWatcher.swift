import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization
public import WharfRegistry
public import WharfServing

/// Serves models by alias from the registry: every model with an alias gets the versions its
/// aliases point at, labelled with the alias names, and requests that name no version go to
/// `production` (or the highest aliased version when there is no `production`). Alias moves are
/// picked up at the next poll (or at once through the management API) and go through the model
/// manager's availability-preserving swap. Each version's artifact is verified against its content
/// hash as it loads.
public final class RegistryWatcher: Service, Sendable {
    public let registry: Registry
    public let manager: ModelManager
    public let interval: Duration
    /// Only these aliases are served (all when `nil`).
    public let aliases: Set<String>?
    private let logger: Logger
    /// The last poll's error, logged once until it changes.
    private let lastError = Mutex<String?>(nil)

    public init(registry: Registry, manager: ModelManager, interval: Duration, aliases: Set<String>? = nil, logger: Logger = Logger(label: "wharf.registry")) {
        self.registry = registry
        self.manager = manager
        self.interval = interval
        self.aliases = aliases
        self.logger = logger
    }

    public func run() async throws {
        await runPeriodically(every: { self.interval }) { await self.poll() }
    }

    /// The manager's name for models that come from the registry.
    public static let origin = "registry"

    /// Reads the aliases and hands the manager the versions they point at.
    public func poll() async {
        do {
            let sources = try await sources()
            lastError.withLock { $0 = nil }
            await manager.apply(sources, origin: Self.origin)
        } catch {
            let message = "\(error)"
            let isNew = lastError.withLock { last in
                defer { last = message }
                return last != message
            }
            if isNew { logger.error("cannot read the registry; serving what is loaded", metadata: ["error": "\(message)"]) }
        }
    }

    /// The model sources the aliases describe now.
    func sources() async throws -> [String: ModelSource] {
        let all = try await registry.store.aliases()
        let splits = Dictionary(try await registry.store.trafficSplits().map { ($0.model, $0) }, uniquingKeysWith: { first, _ in first })
        var byModel: [String: [String: Int64]] = [:]
        for alias in all where aliases?.contains(alias.alias) ?? true {
            byModel[alias.model, default: [:]][alias.alias] = alias.version
        }
        var result: [String: ModelSource] = [:]
        for (model, labels) in byModel {
            var versions: [Int64: VersionSource] = [:]
            for version in Set(labels.values) {
                guard let record = try await registry.store.version(model: model, version: version), let hash = record.contentHash else { continue }
                let path = try await registry.artifacts.localPath(hash: hash)
                versions[version] = VersionSource(version: version, path: path, fingerprint: hash.hashValue)
            }
            var config = ModelConfig()
            if let production = labels[Registry.productionAlias], let path = versions[production]?.path {
                // A config shipped inside the artifact (`wharf.yaml` next to the model); a broken one is ignored.
                config = (try? RepositoryScanner.config(in: path).get()) ?? config
            }
            config.versionPolicy = .specific(Array(versions.keys).sorted())
            config.labels = labels.filter { versions[$0.value] != nil }
            config.defaultLabel = labels[Registry.productionAlias] != nil ? Registry.productionAlias : nil
            if let split = splits[model], config.labels[split.alias] != nil {
                config.trafficSplit = TrafficSplit(label: split.alias, weight: split.weight, stickyHeader: split.stickyHeader)
            }
            result[model] = ModelSource(name: model, basePath: registry.artifacts.location, config: .success(config), versions: versions)
        }
        return result
    }

    /// The version check for a server with a registry: a registry artifact (a directory named by
    /// its content hash) is verified against the hash before it loads; repository version
    /// directories (named by numbers) load as they are.
    public static let artifactCheck: ModelManager.VersionCheck = { path in
        let name = (path as NSString).lastPathComponent
        if (try? LocalArtifactStore.checkHash(name)) != nil {
            try TreeHash.verify(directory: path, expected: name)
        }
    }
}
