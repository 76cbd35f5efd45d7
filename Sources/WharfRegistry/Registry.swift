public import Foundation

/// The model registry: records in a `RegistryStore`, artifacts in an `ArtifactStore`.
///
/// A push inspects the directory first (nothing is written for something that is not a model),
/// reserves the next version number as PENDING_REGISTRATION, hashes the tree and records the
/// hash, copies the artifact in atomically, and only then turns the version READY. A process
/// killed at any point leaves at most a PENDING version that is never served or aliased, and that
/// garbage collection marks FAILED once its process is gone.
public final class Registry: Sendable {
    public let store: RegistryStore
    public let artifacts: any ArtifactStore
    public let inspector: ArtifactInspector

    public init(store: RegistryStore, artifacts: any ArtifactStore, inspector: ArtifactInspector = ArtifactInspector()) {
        self.store = store
        self.artifacts = artifacts
        self.inspector = inspector
    }

    /// Closes the records and the artifact store; call once, when done with the registry.
    public func close() async {
        await store.close()
        await artifacts.close()
    }

    /// The aliases the registry creates for the pipeline's stages.
    public static let productionAlias = "production"

    // MARK: Pushing

    /// What a push records besides the artifact.
    public struct PushRequest: Sendable {
        public var model: String
        public var path: String
        public var author: String
        public var description: String
        public var tags: [String]
        public var metrics: [String: Double]
        public var lineage: Lineage

        public init(
            model: String, path: String, author: String = Registry.defaultActor, description: String = "", tags: [String] = [],
            metrics: [String: Double] = [:], lineage: Lineage = Lineage()
        ) {
            self.model = model
            self.path = path
            self.author = author
            self.description = description
            self.tags = tags
            self.metrics = metrics
            self.lineage = lineage
        }
    }

    /// Registers the model directory `request.path` as the next version of `request.model`.
    public func push(_ request: PushRequest, owner: PushOwner = .current) async throws -> VersionRecord {
        let path = URL(fileURLWithPath: request.path).standardizedFileURL.path
        try validateNames(request)
        return try await push(request, path: path, facts: try inspector.inspect(directory: path), owner: owner)
    }

    private func validateNames(_ request: PushRequest) throws {
        try RegistryNames.validate(request.model, "model name")
        for tag in request.tags { try RegistryNames.validate(tag, "tag") }
    }

    /// Registers `path`, already inspected (`facts`).
    private func push(_ request: PushRequest, path: String, facts: ArtifactFacts, owner: PushOwner) async throws -> VersionRecord {
        var lineage = request.lineage
        if lineage.sourcePath == nil { lineage.sourcePath = path }
        let version = try await store.reserveVersion(
            model: request.model, author: request.author, description: request.description, tags: request.tags, lineage: lineage,
            owner: owner)
        do {
            let expected = try TreeHash.of(directory: path)
            try await store.attachHash(model: request.model, version: version, contentHash: expected.hash)
            let stored = try await artifacts.put(directory: path)
            guard stored.hash == expected.hash else {
                throw RegistryError(.conflict, "\(path) changed while it was being pushed (sha256 \(expected.hash) became \(stored.hash)); push it again once it is stable")
            }
            return try await store.completeVersion(
                model: request.model, version: version, contentHash: stored.hash, sizeBytes: stored.size, facts: facts,
                metrics: request.metrics)
        } catch {
            try? await store.failVersion(model: request.model, version: version, reason: "\(error)")
            throw error
        }
    }

    /// Imports a TF Serving model base path (`BASE/<n>/` version directories) as new versions, in
    /// ascending order of the directory numbers; each version's lineage records its number there.
    public func importBasePath(_ request: PushRequest, owner: PushOwner = .current) async throws -> [VersionRecord] {
        let base = URL(fileURLWithPath: request.path).standardizedFileURL.path
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
        let numbers = entries.compactMap { entry -> Int64? in
            guard let number = Int64(entry), number >= 0, String(number) == entry else { return nil }
            return number
        }.sorted()
        guard !numbers.isEmpty else {
            throw RegistryError(.notAModel, "\(base) holds no model and no numbered version directories (a TF Serving base path has BASE/1/, BASE/2/, ...)")
        }
        try validateNames(request)
        // Check every version first: an import is all or nothing up front.
        let facts = try numbers.map { number in try inspector.inspect(directory: base + "/\(number)") }
        var records: [VersionRecord] = []
        for (number, facts) in zip(numbers, facts) {
            var one = request
            one.path = base + "/\(number)"
            one.lineage.sourceVersion = number
            one.lineage.sourcePath = one.path
            records.append(try await push(one, path: one.path, facts: facts, owner: owner))
        }
        return records
    }

    /// Replaces a version's tags (recorded).
    public func setTags(model: String, version: Int64, tags: [String], actor: String = Registry.defaultActor) async throws -> VersionRecord {
        for tag in tags { try RegistryNames.validate(tag, "tag") }
        _ = try await self.model(model)
        return try await store.setTags(model: model, version: version, tags: tags, actor: actor)
    }

    /// Sets a model's retention policy (recorded).
    public func setRetention(model: String, policy: RetentionPolicy, actor: String = Registry.defaultActor) async throws -> ModelRecord {
        _ = try await self.model(model)
        return try await store.setRetention(model: model, policy: policy, actor: actor)
    }

    /// Whether `path` is a TF Serving base path (numbered version directories, no model at the top).
    public static func isBasePath(_ path: String) -> Bool {
        let fileManager = FileManager.default
        if ["saved_model.pb", "saved_model.pbtxt", "model.onnx"].contains(where: { fileManager.fileExists(atPath: path + "/" + $0) }) {
            return false
        }
        let entries = (try? fileManager.contentsOfDirectory(atPath: path)) ?? []
        return entries.contains { entry in Int64(entry).map { String($0) == entry } ?? false }
    }

    // MARK: Reading

    /// A READY version, or the error saying what exists.
    public func readyVersion(model: String, version: Int64) async throws -> VersionRecord {
        try RegistryNames.validate(model, "model name")
        guard let record = try await store.version(model: model, version: version), record.status == .ready else {
            throw try await missingVersion(model: model, version: version)
        }
        return record
    }

    /// A registered model, or an error naming the models there are.
    public func model(_ name: String) async throws -> ModelRecord {
        try RegistryNames.validate(name, "model name")
        guard let record = try await store.model(name) else {
            let names = try await store.models().map(\.name)
            throw RegistryError(.modelNotFound, "no model '\(name)' in the registry (models: \(names.isEmpty ? "none" : names.joined(separator: ", ")))")
        }
        return record
    }

    private func missingVersion(model: String, version: Int64) async throws -> RegistryError {
        _ = try await self.model(model)
        let ready = try await store.versions(of: model).filter { $0.status == .ready }.map { String($0.version) }
        return RegistryError(.versionNotFound, "model '\(model)' has no READY version \(version) (READY versions: \(ready.isEmpty ? "none" : ready.joined(separator: ", ")))")
    }

    /// The local directory of a version's artifact, verified against its content hash.
    public func materialize(model: String, version: Int64) async throws -> String {
        let record = try await readyVersion(model: model, version: version)
        guard let hash = record.contentHash else {
            throw RegistryError(.artifactMissing, "version \(version) of model '\(model)' has no artifact")
        }
        return try await artifacts.materialize(hash: hash)
    }

    // MARK: Aliases

    /// Points an alias at a READY version; one audit event records it.
    public func setAlias(model: String, alias: String, version: Int64, actor: String = Registry.defaultActor, reason: String = "") async throws -> AuditEvent {
        try RegistryNames.validate(model, "model name")
        try RegistryNames.validate(alias, "alias")
        _ = try await readyVersion(model: model, version: version)
        return try await store.moveAlias(model: model, alias: alias, to: version, actor: actor, reason: reason)
    }

    /// Removes an alias; one audit event records it.
    public func removeAlias(model: String, alias: String, actor: String = Registry.defaultActor, reason: String = "") async throws -> AuditEvent {
        try RegistryNames.validate(model, "model name")
        try RegistryNames.validate(alias, "alias")
        return try await store.removeAlias(model: model, alias: alias, actor: actor, reason: reason)
    }

    /// Moves an alias back to the version it pointed at before (or to `target`). Rollbacks stack:
    /// after 1 → 2 → 3, rolling back goes to 2, and again to 1. O(1) in artifacts: nothing is copied.
    public func rollback(
        model: String, alias: String = Registry.productionAlias, to target: Int64? = nil, actor: String = Registry.defaultActor,
        reason: String = ""
    ) async throws -> AuditEvent {
        try RegistryNames.validate(model, "model name")
        try RegistryNames.validate(alias, "alias")
        _ = try await self.model(model)
        guard let current = try await store.aliases(of: model).first(where: { $0.alias == alias }) else {
            throw RegistryError(.aliasNotFound, "model '\(model)' has no alias '\(alias)', so there is nothing to roll back")
        }
        let destination: Int64
        if let target {
            _ = try await readyVersion(model: model, version: target)
            destination = target
        } else {
            let events = try await store.events(model: model, alias: alias)
            let ready = Set(try await store.versions(of: model).filter { $0.status == .ready }.map(\.version))
            var stack = Self.rollbackStack(events)
            while let candidate = stack.last, candidate == nil || candidate == current.version || !ready.contains(candidate!) {
                stack.removeLast()
            }
            guard let found = stack.last, let version = found else {
                let moves = events.filter { $0.action == .aliasSet || $0.action == .rollback }.count
                throw RegistryError(
                    .noRollbackTarget,
                    "alias '\(alias)' of model '\(model)' points at version \(current.version) and has no earlier version to roll back to (\(moves) move\(moves == 1 ? "" : "s") in its history; see `wharf alias history \(model)`)")
            }
            destination = version
        }
        let why = reason.isEmpty ? "rollback from \(current.version) to \(destination)" : reason
        return try await store.moveAlias(
            model: model, alias: alias, to: destination, action: .rollback, actor: actor, reason: why, expectedFrom: .some(current.version))
    }

    /// The versions an alias can return to, most recent last: each move pushes where it came
    /// from, each rollback pops back to where it went (explicit rollbacks to a version not on the
    /// stack count as moves), a removal empties it.
    static func rollbackStack(_ events: [AuditEvent]) -> [Int64?] {
        var stack: [Int64?] = []
        for event in events {
            switch event.action {
            case .aliasSet:
                stack.append(event.fromVersion)
            case .rollback:
                if let target = event.toVersion, let index = stack.lastIndex(of: target) {
                    stack.removeSubrange(index...)
                } else {
                    stack.append(event.fromVersion)
                }
            case .aliasRemoved:
                stack = []
            default:
                continue
            }
        }
        return stack
    }

    // MARK: Deleting and retention

    /// Deletes a version (refused while an alias points at it).
    public func deleteVersion(model: String, version: Int64, actor: String = Registry.defaultActor, reason: String = "") async throws -> VersionRecord {
        try RegistryNames.validate(model, "model name")
        _ = try await self.model(model)
        return try await store.deleteVersion(model: model, version: version, actor: actor, reason: reason)
    }

    /// What garbage collection did.
    public struct CollectionReport: Sendable, Codable, Equatable {
        /// Versions deleted by retention rules, as `model:version`.
        public var deletedVersions: [String] = []
        /// Pending versions whose push process is gone, marked FAILED.
        public var abandonedPushes: [String] = []
        /// Artifacts no version refers to any more, removed.
        public var removedArtifacts: [String] = []
        /// Leftovers of interrupted copies, removed.
        public var removedLeftovers = 0

        enum CodingKeys: String, CodingKey {
            case deletedVersions = "deleted_versions"
            case abandonedPushes = "abandoned_pushes"
            case removedArtifacts = "removed_artifacts"
            case removedLeftovers = "removed_leftovers"
        }
    }

    /// Applies every model's retention policy (never deleting a version an alias points at), marks
    /// pushes whose process died FAILED, and removes artifacts nothing refers to. With `dryRun`,
    /// reports what it would do.
    public func collectGarbage(model only: String? = nil, dryRun: Bool = false, now: Date = Date(), actor: String = Registry.defaultActor) async throws -> CollectionReport {
        var report = CollectionReport()
        for (record, owner) in try await store.pendingVersions() {
            guard let owner, !Self.isAlive(owner) else { continue }
            report.abandonedPushes.append("\(record.model):\(record.version)")
            if !dryRun {
                try await store.failVersion(model: record.model, version: record.version, reason: "push interrupted: process \(owner.pid) is gone", now: now)
            }
        }
        for model in try await store.models() where only == nil || model.name == only {
            guard !model.retention.isEmpty else { continue }
            let ready = try await store.versions(of: model.name).filter { $0.status == .ready }
            let aliased = Set(try await store.aliases(of: model.name).map(\.version))
            for version in ready where !aliased.contains(version.version) && !model.retention.keeps(version, among: ready, now: now) {
                report.deletedVersions.append("\(model.name):\(version.version)")
                if !dryRun {
                    _ = try await store.deleteVersion(
                        model: model.name, version: version.version, actor: actor, reason: "retention: \(Self.describe(model.retention))", now: now)
                }
            }
        }
        let referenced = try await store.referencedHashes()
        for hash in try await artifacts.list() where !referenced.contains(hash) {
            report.removedArtifacts.append(hash)
            if !dryRun { try await artifacts.delete(hash: hash) }
        }
        if !dryRun { report.removedLeftovers = try await artifacts.removeLeftovers() }
        return report
    }

    /// A retention policy in words.
    public static func describe(_ policy: RetentionPolicy) -> String {
        var parts: [String] = []
        if let keepLast = policy.keepLast { parts.append("keep last \(keepLast)") }
        if let seconds = policy.keepYoungerThanSeconds { parts.append("keep younger than \(Duration.seconds(seconds).formatted())") }
        return parts.isEmpty ? "keep everything" : parts.joined(separator: ", ")
    }

    /// Whether the process `owner` names is still running (owners on other hosts count as alive).
    public static func isAlive(_ owner: PushOwner) -> Bool {
        owner.host != PushOwner.current.host || processIsAlive(owner.pid)
    }

    /// Sets the share of unversioned requests that goes to `alias` (0 clears the split).
    public func setTrafficSplit(
        model: String, alias: String, weight: Double, stickyHeader: String? = nil, actor: String = Registry.defaultActor, reason: String = ""
    ) async throws -> AuditEvent {
        try RegistryNames.validate(model, "model name")
        try RegistryNames.validate(alias, "alias")
        guard (0...1).contains(weight) else { throw RegistryError(.invalidArgument, "a traffic weight is between 0 and 1, got \(weight)") }
        if let stickyHeader {
            guard !stickyHeader.isEmpty, stickyHeader.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != 58 }) else {
                throw RegistryError(.invalidArgument, "'\(stickyHeader)' is not an HTTP header name")
            }
        }
        _ = try await self.model(model)
        return try await store.setTrafficSplit(
            TrafficSplitRecord(model: model, alias: alias, weight: weight, stickyHeader: stickyHeader, updatedBy: actor), reason: reason)
    }

    private static func processIsAlive(_ pid: Int64) -> Bool {
        kill(pid_t(pid), 0) == 0 || errno == EPERM
    }

    /// Who the audit log names when no one is given: `$WHARF_ACTOR`, or the login user.
    public static var defaultActor: String {
        let environment = ProcessInfo.processInfo.environment
        if let name = environment["WHARF_ACTOR"] ?? environment["USER"] ?? environment["LOGNAME"] { return name }
        if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return "uid \(getuid())"
    }
}
