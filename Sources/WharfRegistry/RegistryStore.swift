public import Foundation

/// Who is pushing a version: a PENDING_REGISTRATION row left behind by a process that is gone
/// can then be told apart from a push still under way.
public struct PushOwner: Sendable, Equatable {
    public var host: String
    public var pid: Int64

    public init(host: String, pid: Int64) {
        self.host = host
        self.pid = pid
    }

    /// This process (the host name is looked up once).
    public static let current = PushOwner(host: ProcessInfo.processInfo.hostName, pid: Int64(ProcessInfo.processInfo.processIdentifier))
}

/// The registry's records (models, versions, aliases, audit events) in a SQL database. Every
/// operation is one transaction: version numbers come from the model row, which serializes
/// concurrent pushes; an alias move, its checks and its audit event commit together or not at all.
public final class RegistryStore: Sendable {
    public let backend: any SQLBackend

    public init(backend: any SQLBackend) {
        self.backend = backend
    }

    public var location: String { backend.location }

    public func close() async { await backend.close() }

    // MARK: Versions

    /// Hands out the next version number of `model` (creating the model on its first push) and
    /// records the version as PENDING_REGISTRATION.
    public func reserveVersion(
        model: String, author: String, description: String, tags: [String], lineage: Lineage, owner: PushOwner,
        now: Date = Date()
    ) async throws -> Int64 {
        let tagsText = try JSONCoding.encode(tags)
        let lineageText = try JSONCoding.encode(lineage)
        return try await backend.write { tx in
            try tx.execute(
                "INSERT INTO models (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                [.text(model), .double(now.timeIntervalSince1970)])
            let rows = try tx.query(
                "UPDATE models SET last_version = last_version + 1 WHERE name = ? RETURNING last_version", [.text(model)])
            guard let version = rows.first?["last_version"]?.int else {
                throw RegistryError(.storage, "could not number a new version of model '\(model)'")
            }
            try tx.execute(
                """
                INSERT INTO versions (model, version, status, created_at, author, description, tags, lineage, owner_host, owner_pid)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    .text(model), .int(version), .text(VersionStatus.pending.rawValue), .double(now.timeIntervalSince1970),
                    .text(author), .text(description), .text(tagsText), .text(lineageText), .text(owner.host), .int(owner.pid),
                ])
            return version
        }
    }

    /// Records the content hash of a pending version before its artifact is stored, so that
    /// garbage collection keeps the artifact while the push is under way.
    public func attachHash(model: String, version: Int64, contentHash: String) async throws {
        try await backend.write { tx in
            try tx.execute(
                "UPDATE versions SET content_hash = ? WHERE model = ? AND version = ? AND status = ?",
                [.text(contentHash), .text(model), .int(version), .text(VersionStatus.pending.rawValue)])
        }
    }

    /// Turns a pending version READY with what the push found, and logs it.
    public func completeVersion(
        model: String, version: Int64, contentHash: String, sizeBytes: Int64, facts: ArtifactFacts,
        metrics: [String: Double], now: Date = Date()
    ) async throws -> VersionRecord {
        let formats = try JSONCoding.encode(facts.formats)
        let signatures = try JSONCoding.encode(facts.signatures)
        let metricsText = try JSONCoding.encode(metrics)
        return try await backend.write { tx in
            let updated = try tx.query(
                """
                UPDATE versions SET status = ?, content_hash = ?, size_bytes = ?, formats = ?, signatures = ?, metrics = ?,
                    owner_host = NULL, owner_pid = NULL
                WHERE model = ? AND version = ? AND status = ? RETURNING version
                """,
                [
                    .text(VersionStatus.ready.rawValue), .text(contentHash), .int(sizeBytes), .text(formats), .text(signatures),
                    .text(metricsText), .text(model), .int(version), .text(VersionStatus.pending.rawValue),
                ])
            guard !updated.isEmpty else {
                throw RegistryError(.conflict, "version \(version) of model '\(model)' is no longer pending registration")
            }
            let author = try Self.versionRow(tx, model, version)?["author"]?.text ?? ""
            _ = try Self.insertEvent(tx, AuditEvent(
                model: model, action: .versionRegistered, toVersion: version, actor: author,
                reason: "sha256 \(contentHash.prefix(12)), \(sizeBytes) bytes", at: now))
            guard let record = try Self.versionRow(tx, model, version).map(Self.decodeVersion) else {
                throw RegistryError(.versionNotFound, "version \(version) of model '\(model)' vanished")
            }
            return record
        }
    }

    /// Marks a pending version FAILED with the reason.
    public func failVersion(model: String, version: Int64, reason: String, now: Date = Date()) async throws {
        try await backend.write { tx in
            let updated = try tx.query(
                "UPDATE versions SET status = ?, failure = ?, owner_host = NULL, owner_pid = NULL WHERE model = ? AND version = ? AND status = ? RETURNING author",
                [.text(VersionStatus.failed.rawValue), .text(reason), .text(model), .int(version), .text(VersionStatus.pending.rawValue)])
            if let author = updated.first?["author"]?.text {
                _ = try Self.insertEvent(tx, AuditEvent(
                    model: model, action: .versionFailed, toVersion: version, actor: author, reason: reason, at: now))
            }
        }
    }

    /// Versions still pending, with the process that pushes them.
    public func pendingVersions() async throws -> [(record: VersionRecord, owner: PushOwner?)] {
        try await backend.read { tx in
            try tx.query("SELECT * FROM versions WHERE status = ? ORDER BY model, version", [.text(VersionStatus.pending.rawValue)])
                .map { row in
                    let owner = row["owner_host"]?.text.flatMap { host in row["owner_pid"]?.int.map { PushOwner(host: host, pid: $0) } }
                    return (try Self.decodeVersion(row), owner)
                }
        }
    }

    public func models() async throws -> [ModelRecord] {
        try await backend.read { tx in try tx.query("SELECT * FROM models ORDER BY name", []).map(Self.decodeModel) }
    }

    public func model(_ name: String) async throws -> ModelRecord? {
        try await backend.read { tx in try tx.query("SELECT * FROM models WHERE name = ?", [.text(name)]).first.map(Self.decodeModel) }
    }

    /// Every version of a model (all statuses), by number.
    public func versions(of model: String) async throws -> [VersionRecord] {
        try await backend.read { tx in
            try tx.query("SELECT * FROM versions WHERE model = ? ORDER BY version", [.text(model)]).map(Self.decodeVersion)
        }
    }

    public func version(model: String, version: Int64) async throws -> VersionRecord? {
        try await backend.read { tx in try Self.versionRow(tx, model, version).map(Self.decodeVersion) }
    }

    /// Every content hash a READY or pending version refers to (artifacts garbage collection must
    /// keep; a FAILED version's artifact may go).
    public func referencedHashes() async throws -> Set<String> {
        try await backend.read { tx in
            Set(try tx.query(
                "SELECT DISTINCT content_hash FROM versions WHERE content_hash IS NOT NULL AND status <> ?",
                [.text(VersionStatus.failed.rawValue)]).compactMap { $0["content_hash"]?.text })
        }
    }

    /// Replaces a version's tags.
    public func setTags(model: String, version: Int64, tags: [String], actor: String, now: Date = Date()) async throws -> VersionRecord {
        let text = try JSONCoding.encode(tags)
        return try await backend.write { tx in
            let updated = try tx.query(
                "UPDATE versions SET tags = ? WHERE model = ? AND version = ? AND status = ? RETURNING version",
                [.text(text), .text(model), .int(version), .text(VersionStatus.ready.rawValue)])
            guard !updated.isEmpty else { throw try Self.missingVersion(tx, model, version) }
            _ = try Self.insertEvent(tx, AuditEvent(
                model: model, action: .versionTagged, toVersion: version, actor: actor, reason: tags.joined(separator: ","), at: now))
            return try Self.decodeVersion(Self.versionRow(tx, model, version)!)
        }
    }

    /// Merges `metrics` into a version's metrics (the pipeline records benchmark and parity results).
    public func addMetrics(model: String, version: Int64, metrics: [String: Double]) async throws -> VersionRecord {
        try await backend.write { tx in
            guard let row = try Self.versionRow(tx, model, version) else { throw try Self.missingVersion(tx, model, version) }
            var record = try Self.decodeVersion(row)
            record.metrics.merge(metrics) { _, new in new }
            try tx.execute(
                "UPDATE versions SET metrics = ? WHERE model = ? AND version = ?",
                [.text(try JSONCoding.encode(record.metrics)), .text(model), .int(version)])
            return record
        }
    }

    /// Deletes a version's record; refused while an alias points at it. The artifact goes at the
    /// next garbage collection unless another version shares it.
    public func deleteVersion(model: String, version: Int64, actor: String, reason: String, now: Date = Date()) async throws -> VersionRecord {
        try await backend.write { tx in
            guard let row = try Self.versionRow(tx, model, version) else { throw try Self.missingVersion(tx, model, version) }
            let pointing = try tx.query("SELECT alias FROM aliases WHERE model = ? AND version = ? ORDER BY alias", [.text(model), .int(version)])
                .compactMap { $0["alias"]?.text }
            guard pointing.isEmpty else {
                throw RegistryError(
                    .versionInUse,
                    "version \(version) of model '\(model)' cannot be deleted: alias \(pointing.map { "'\($0)'" }.joined(separator: ", ")) points at it; move the alias first")
            }
            let record = try Self.decodeVersion(row)
            try tx.execute("DELETE FROM versions WHERE model = ? AND version = ?", [.text(model), .int(version)])
            _ = try Self.insertEvent(tx, AuditEvent(
                model: model, action: .versionDeleted, fromVersion: version, actor: actor, reason: reason, at: now))
            return record
        }
    }

    public func setRetention(model: String, policy: RetentionPolicy, actor: String, now: Date = Date()) async throws -> ModelRecord {
        let text = try JSONCoding.encode(policy)
        return try await backend.write { tx in
            let updated = try tx.query("UPDATE models SET retention = ? WHERE name = ? RETURNING name", [.text(text), .text(model)])
            guard !updated.isEmpty else { throw Self.missingModel(model) }
            _ = try Self.insertEvent(tx, AuditEvent(
                model: model, action: .retentionSet, actor: actor, reason: String(decoding: Data(text.utf8), as: UTF8.self), at: now))
            return try Self.decodeModel(tx.query("SELECT * FROM models WHERE name = ?", [.text(model)])[0])
        }
    }

    // MARK: Aliases

    /// Aliases of one model, or of every model when `model` is nil.
    public func aliases(of model: String? = nil) async throws -> [AliasRecord] {
        try await backend.read { tx in
            if let model {
                return try tx.query("SELECT * FROM aliases WHERE model = ? ORDER BY alias", [.text(model)]).map(Self.decodeAlias)
            }
            return try tx.query("SELECT * FROM aliases ORDER BY model, alias", []).map(Self.decodeAlias)
        }
    }

    /// Points `alias` at `version` (a READY version), recording who, when, from, to and why in the
    /// same transaction. With `expectedFrom`, the move happens only if the alias still points
    /// there (what a rollback computed its target from); `.some(nil)` expects no alias.
    public func moveAlias(
        model: String, alias: String, to version: Int64, action: AuditEvent.Action = .aliasSet, actor: String, reason: String,
        expectedFrom: Int64?? = nil, now: Date = Date()
    ) async throws -> AuditEvent {
        try await backend.write { tx in
            guard let row = try Self.versionRow(tx, model, version) else { throw try Self.missingVersion(tx, model, version) }
            let status = row["status"]?.text ?? ""
            guard status == VersionStatus.ready.rawValue else {
                throw RegistryError(.versionNotFound, "version \(version) of model '\(model)' is \(status), not READY; only READY versions can be aliased")
            }
            let current = try tx.query("SELECT version FROM aliases WHERE model = ? AND alias = ?", [.text(model), .text(alias)])
                .first?["version"]?.int
            if let expectedFrom, expectedFrom != current {
                throw RegistryError(
                    .conflict,
                    "alias '\(alias)' of model '\(model)' moved meanwhile (now \(current.map(String.init) ?? "unset"), expected \(expectedFrom.map(String.init) ?? "unset")); try again")
            }
            if current == nil {
                try tx.execute(
                    "INSERT INTO aliases (model, alias, version, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)",
                    [.text(model), .text(alias), .int(version), .double(now.timeIntervalSince1970), .text(actor)])
            } else {
                try tx.execute(
                    "UPDATE aliases SET version = ?, updated_at = ?, updated_by = ? WHERE model = ? AND alias = ?",
                    [.int(version), .double(now.timeIntervalSince1970), .text(actor), .text(model), .text(alias)])
            }
            return try Self.insertEvent(tx, AuditEvent(
                model: model, action: action, alias: alias, fromVersion: current, toVersion: version, actor: actor, reason: reason, at: now))
        }
    }

    /// Removes an alias, recording it.
    public func removeAlias(model: String, alias: String, actor: String, reason: String, now: Date = Date()) async throws -> AuditEvent {
        try await backend.write { tx in
            let removed = try tx.query("DELETE FROM aliases WHERE model = ? AND alias = ? RETURNING version", [.text(model), .text(alias)])
            guard let version = removed.first?["version"]?.int else {
                throw try Self.missingAlias(tx, model, alias)
            }
            return try Self.insertEvent(tx, AuditEvent(
                model: model, action: .aliasRemoved, alias: alias, fromVersion: version, actor: actor, reason: reason, at: now))
        }
    }

    /// A model's audit log, oldest first; only the events of `alias` when given.
    public func events(model: String, alias: String? = nil) async throws -> [AuditEvent] {
        try await backend.read { tx in
            if let alias {
                return try tx.query("SELECT * FROM events WHERE model = ? AND alias = ? ORDER BY id", [.text(model), .text(alias)])
                    .map(Self.decodeEvent)
            }
            return try tx.query("SELECT * FROM events WHERE model = ? ORDER BY id", [.text(model)]).map(Self.decodeEvent)
        }
    }

    // MARK: Traffic splits

    /// Sets (or, with weight 0, clears) the share of a model's unversioned requests that goes to
    /// `alias`; one audit event records it.
    public func setTrafficSplit(_ split: TrafficSplitRecord, reason: String = "") async throws -> AuditEvent {
        try await backend.write { tx in
            guard try !tx.query("SELECT name FROM models WHERE name = ?", [.text(split.model)]).isEmpty else {
                throw Self.missingModel(split.model)
            }
            try tx.execute("DELETE FROM traffic_splits WHERE model = ?", [.text(split.model)])
            if split.weight > 0 {
                try tx.execute(
                    "INSERT INTO traffic_splits (model, alias, weight, sticky_header, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        .text(split.model), .text(split.alias), .double(split.weight), split.stickyHeader.map(SQLValue.text) ?? .null,
                        .double(split.updatedAt.timeIntervalSince1970), .text(split.updatedBy),
                    ])
            }
            let share = split.weight > 0 ? "\(Int((split.weight * 100).rounded())) % to \(split.alias)" : "no split"
            return try Self.insertEvent(tx, AuditEvent(
                model: split.model, action: .trafficSet, alias: split.alias, actor: split.updatedBy,
                reason: reason.isEmpty ? share : "\(share): \(reason)", at: split.updatedAt))
        }
    }

    /// Every model's traffic split (of one model when given).
    public func trafficSplits(model: String? = nil) async throws -> [TrafficSplitRecord] {
        try await backend.read { tx in
            let rows = try model.map { try tx.query("SELECT * FROM traffic_splits WHERE model = ?", [.text($0)]) }
                ?? tx.query("SELECT * FROM traffic_splits ORDER BY model", [])
            return rows.map { row in
                TrafficSplitRecord(
                    model: row["model"]?.text ?? "", alias: row["alias"]?.text ?? "", weight: row["weight"]?.double ?? 0,
                    stickyHeader: row["sticky_header"]?.text, updatedAt: Self.date(row["updated_at"]), updatedBy: row["updated_by"]?.text ?? "")
            }
        }
    }

    // MARK: Pipeline runs

    /// A pipeline run as stored: the columns runs are found by, and the run itself as JSON (its
    /// shape belongs to the pipeline module).
    public struct StoredRun: Sendable, Equatable {
        public var id: String
        public var model: String
        public var status: String
        public var createdAt: Date
        public var updatedAt: Date
        public var owner: PushOwner?
        public var payload: String

        public init(id: String, model: String, status: String, createdAt: Date, updatedAt: Date, owner: PushOwner?, payload: String) {
            self.id = id
            self.model = model
            self.status = status
            self.createdAt = createdAt
            self.updatedAt = updatedAt
            self.owner = owner
            self.payload = payload
        }
    }

    /// Starts a run unless another live run of the same model holds it: deploys of one model are
    /// serialized. A run whose owner process is gone (same host) no longer holds the model.
    /// Returns the run that blocks, if any.
    public func startRun(_ run: StoredRun, activeStatuses: [String], isAlive: @escaping @Sendable (PushOwner) -> Bool) async throws -> StoredRun? {
        try await backend.write { tx in
            let placeholders = activeStatuses.map { _ in "?" }.joined(separator: ", ")
            let active = try tx.query(
                "SELECT * FROM pipeline_runs WHERE model = ? AND id <> ? AND status IN (\(placeholders)) ORDER BY created_at",
                [.text(run.model), .text(run.id)] + activeStatuses.map(SQLValue.text)
            ).map(Self.decodeRun)
            if let blocking = active.first(where: { stored in stored.owner.map(isAlive) ?? true }) { return blocking }
            try tx.execute("DELETE FROM pipeline_runs WHERE id = ?", [.text(run.id)])
            try Self.insertRun(tx, run)
            return nil
        }
    }

    /// Saves a run's progress.
    public func saveRun(_ run: StoredRun) async throws {
        try await backend.write { tx in
            try tx.execute(
                "UPDATE pipeline_runs SET status = ?, updated_at = ?, owner_host = ?, owner_pid = ?, payload = ? WHERE id = ?",
                [
                    .text(run.status), .double(run.updatedAt.timeIntervalSince1970), run.owner.map { .text($0.host) } ?? .null,
                    run.owner.map { .int($0.pid) } ?? .null, .text(run.payload), .text(run.id),
                ])
        }
    }

    public func run(id: String) async throws -> StoredRun? {
        try await backend.read { tx in try tx.query("SELECT * FROM pipeline_runs WHERE id = ?", [.text(id)]).first.map(Self.decodeRun) }
    }

    /// The newest runs (of one model when given), newest first.
    public func runs(model: String? = nil, limit: Int = 50) async throws -> [StoredRun] {
        try await backend.read { tx in
            if let model {
                return try tx.query("SELECT * FROM pipeline_runs WHERE model = ? ORDER BY created_at DESC LIMIT ?", [.text(model), .int(Int64(limit))])
                    .map(Self.decodeRun)
            }
            return try tx.query("SELECT * FROM pipeline_runs ORDER BY created_at DESC LIMIT ?", [.int(Int64(limit))]).map(Self.decodeRun)
        }
    }

    private static func insertRun(_ tx: any SQLTransaction, _ run: StoredRun) throws {
        try tx.execute(
            "INSERT INTO pipeline_runs (id, model, status, created_at, updated_at, owner_host, owner_pid, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                .text(run.id), .text(run.model), .text(run.status), .double(run.createdAt.timeIntervalSince1970),
                .double(run.updatedAt.timeIntervalSince1970), run.owner.map { .text($0.host) } ?? .null, run.owner.map { .int($0.pid) } ?? .null,
                .text(run.payload),
            ])
    }

    private static func decodeRun(_ row: SQLRow) -> StoredRun {
        let owner = row["owner_host"]?.text.flatMap { host in row["owner_pid"]?.int.map { PushOwner(host: host, pid: $0) } }
        return StoredRun(
            id: row["id"]?.text ?? "", model: row["model"]?.text ?? "", status: row["status"]?.text ?? "", createdAt: date(row["created_at"]),
            updatedAt: date(row["updated_at"]), owner: owner, payload: row["payload"]?.text ?? "{}")
    }

    // MARK: Alert history

    /// One stored alert event: the columns history is filtered by, and the event itself as JSON
    /// (its shape belongs to the monitoring module).
    public struct StoredAlertEvent: Sendable, Equatable {
        public var id: Int64
        public var kind: String
        public var rule: String
        public var model: String?
        public var version: Int64?
        public var at: Date
        public var payload: String

        public init(id: Int64 = 0, kind: String, rule: String, model: String?, version: Int64?, at: Date, payload: String) {
            self.id = id
            self.kind = kind
            self.rule = rule
            self.model = model
            self.version = version
            self.at = at
            self.payload = payload
        }
    }

    /// Keeps an alert event; returns its id.
    @discardableResult
    public func recordAlertEvent(_ event: StoredAlertEvent) async throws -> Int64 {
        try await backend.write { tx in
            try tx.query(
                "INSERT INTO alert_events (kind, rule, model, version, at, payload) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                [
                    .text(event.kind), .text(event.rule), event.model.map(SQLValue.text) ?? .null, event.version.map(SQLValue.int) ?? .null,
                    .double(event.at.timeIntervalSince1970), .text(event.payload),
                ]
            ).first?["id"]?.int ?? 0
        }
    }

    /// The newest `limit` alert events (of one model when given), oldest first.
    public func alertEvents(model: String? = nil, limit: Int = 100) async throws -> [StoredAlertEvent] {
        try await backend.read { tx in
            let rows: [SQLRow]
            if let model {
                rows = try tx.query("SELECT * FROM alert_events WHERE model = ? ORDER BY id DESC LIMIT ?", [.text(model), .int(Int64(limit))])
            } else {
                rows = try tx.query("SELECT * FROM alert_events ORDER BY id DESC LIMIT ?", [.int(Int64(limit))])
            }
            return rows.reversed().map { row in
                StoredAlertEvent(
                    id: row["id"]?.int ?? 0, kind: row["kind"]?.text ?? "", rule: row["rule"]?.text ?? "", model: row["model"]?.text,
                    version: row["version"]?.int, at: Self.date(row["at"]), payload: row["payload"]?.text ?? "{}")
            }
        }
    }

    // MARK: Rows

    private static func versionRow(_ tx: any SQLTransaction, _ model: String, _ version: Int64) throws -> SQLRow? {
        try tx.query("SELECT * FROM versions WHERE model = ? AND version = ?", [.text(model), .int(version)]).first
    }

    private static func missingModel(_ model: String) -> RegistryError {
        RegistryError(.modelNotFound, "no model '\(model)' in the registry")
    }

    /// The right error for a version that is not there: the model is unknown, or the version is.
    private static func missingVersion(_ tx: any SQLTransaction, _ model: String, _ version: Int64) throws -> RegistryError {
        guard try !tx.query("SELECT name FROM models WHERE name = ?", [.text(model)]).isEmpty else { return missingModel(model) }
        let known = try tx.query("SELECT version FROM versions WHERE model = ? AND status = ? ORDER BY version", [.text(model), .text(VersionStatus.ready.rawValue)])
            .compactMap { $0["version"]?.int }
        return RegistryError(
            .versionNotFound,
            "model '\(model)' has no version \(version) (READY versions: \(known.isEmpty ? "none" : known.map(String.init).joined(separator: ", ")))")
    }

    private static func missingAlias(_ tx: any SQLTransaction, _ model: String, _ alias: String) throws -> RegistryError {
        guard try !tx.query("SELECT name FROM models WHERE name = ?", [.text(model)]).isEmpty else { return missingModel(model) }
        let known = try tx.query("SELECT alias FROM aliases WHERE model = ? ORDER BY alias", [.text(model)]).compactMap { $0["alias"]?.text }
        return RegistryError(
            .aliasNotFound,
            "model '\(model)' has no alias '\(alias)' (aliases: \(known.isEmpty ? "none" : known.joined(separator: ", ")))")
    }

    private static func insertEvent(_ tx: any SQLTransaction, _ event: AuditEvent) throws -> AuditEvent {
        let rows = try tx.query(
            "INSERT INTO events (model, action, alias, from_version, to_version, actor, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [
                .text(event.model), .text(event.action.rawValue), event.alias.map(SQLValue.text) ?? .null,
                event.fromVersion.map(SQLValue.int) ?? .null, event.toVersion.map(SQLValue.int) ?? .null, .text(event.actor),
                .text(event.reason), .double(event.at.timeIntervalSince1970),
            ])
        var stored = event
        stored.id = rows.first?["id"]?.int ?? 0
        return stored
    }

    private static func date(_ value: SQLValue?) -> Date {
        Date(timeIntervalSince1970: value?.double ?? 0)
    }

    static func decodeModel(_ row: SQLRow) throws -> ModelRecord {
        ModelRecord(
            name: row["name"]?.text ?? "", description: row["description"]?.text ?? "", createdAt: date(row["created_at"]),
            lastVersion: row["last_version"]?.int ?? 0,
            retention: try JSONCoding.decode(RetentionPolicy.self, row["retention"]?.text ?? "{}"))
    }

    static func decodeVersion(_ row: SQLRow) throws -> VersionRecord {
        VersionRecord(
            model: row["model"]?.text ?? "", version: row["version"]?.int ?? 0,
            status: VersionStatus(rawValue: row["status"]?.text ?? "") ?? .failed, contentHash: row["content_hash"]?.text,
            sizeBytes: row["size_bytes"]?.int ?? 0,
            formats: try JSONCoding.decode([String].self, row["formats"]?.text ?? "[]"),
            signatures: try JSONCoding.decode([SignatureSummary].self, row["signatures"]?.text ?? "[]"),
            createdAt: date(row["created_at"]), author: row["author"]?.text ?? "", description: row["description"]?.text ?? "",
            tags: try JSONCoding.decode([String].self, row["tags"]?.text ?? "[]"),
            metrics: try JSONCoding.decode([String: Double].self, row["metrics"]?.text ?? "{}"),
            lineage: try JSONCoding.decode(Lineage.self, row["lineage"]?.text ?? "{}"), failure: row["failure"]?.text)
    }

    static func decodeAlias(_ row: SQLRow) -> AliasRecord {
        AliasRecord(
            model: row["model"]?.text ?? "", alias: row["alias"]?.text ?? "", version: row["version"]?.int ?? 0,
            updatedAt: date(row["updated_at"]), updatedBy: row["updated_by"]?.text ?? "")
    }

    static func decodeEvent(_ row: SQLRow) -> AuditEvent {
        AuditEvent(
            id: row["id"]?.int ?? 0, model: row["model"]?.text ?? "",
            action: AuditEvent.Action(rawValue: row["action"]?.text ?? "") ?? .aliasSet, alias: row["alias"]?.text,
            fromVersion: row["from_version"]?.int, toVersion: row["to_version"]?.int, actor: row["actor"]?.text ?? "",
            reason: row["reason"]?.text ?? "", at: date(row["at"]))
    }
}

/// The JSON the registry stores in text columns and prints for scripts.
public enum JSONCoding {
    public static func encode(_ value: some Encodable, pretty: Bool = false) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    public static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(type, from: Data(text.utf8))
    }
}
