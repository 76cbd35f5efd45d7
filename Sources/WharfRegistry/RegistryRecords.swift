public import Foundation

/// A registered model: the versions hang off it.
public struct ModelRecord: Sendable, Codable, Equatable {
    public var name: String
    public var description: String
    public var createdAt: Date
    /// The highest version number handed out so far (0 before the first push).
    public var lastVersion: Int64
    public var retention: RetentionPolicy

    public init(name: String, description: String = "", createdAt: Date, lastVersion: Int64 = 0, retention: RetentionPolicy = RetentionPolicy()) {
        self.name = name
        self.description = description
        self.createdAt = createdAt
        self.lastVersion = lastVersion
        self.retention = retention
    }

    enum CodingKeys: String, CodingKey {
        case name, description, retention
        case createdAt = "created_at"
        case lastVersion = "last_version"
    }
}

/// Where a version is in its registration. Only READY versions can be served, aliased or listed
/// by default; a push that died half-way stays PENDING_REGISTRATION (and is marked FAILED by the
/// next garbage collection once its process is gone), never READY.
public enum VersionStatus: String, Sendable, Codable, Equatable {
    case pending = "PENDING_REGISTRATION"
    case ready = "READY"
    case failed = "FAILED"
}

/// Where a version came from: the source artifact, the converter that produced it and its
/// parameters, and the version it was derived from.
public struct Lineage: Sendable, Codable, Equatable {
    public var sourcePath: String?
    public var sourceHash: String?
    public var converter: String?
    public var converterParameters: [String: String]
    public var parentVersion: Int64?
    /// The version number the artifact had where it came from (a TF Serving base path import).
    public var sourceVersion: Int64?

    public init(
        sourcePath: String? = nil, sourceHash: String? = nil, converter: String? = nil,
        converterParameters: [String: String] = [:], parentVersion: Int64? = nil, sourceVersion: Int64? = nil
    ) {
        self.sourcePath = sourcePath
        self.sourceHash = sourceHash
        self.converter = converter
        self.converterParameters = converterParameters
        self.parentVersion = parentVersion
        self.sourceVersion = sourceVersion
    }

    enum CodingKeys: String, CodingKey {
        case sourcePath = "source_path"
        case sourceHash = "source_hash"
        case converter
        case converterParameters = "converter_parameters"
        case parentVersion = "parent_version"
        case sourceVersion = "source_version"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sourcePath = try container.decodeIfPresent(String.self, forKey: .sourcePath)
        sourceHash = try container.decodeIfPresent(String.self, forKey: .sourceHash)
        converter = try container.decodeIfPresent(String.self, forKey: .converter)
        converterParameters = try container.decodeIfPresent([String: String].self, forKey: .converterParameters) ?? [:]
        parentVersion = try container.decodeIfPresent(Int64.self, forKey: .parentVersion)
        sourceVersion = try container.decodeIfPresent(Int64.self, forKey: .sourceVersion)
    }
}

/// One input or output of a signature, as recorded at registration.
public struct TensorSummary: Sendable, Codable, Equatable {
    public var name: String
    public var dtype: String
    /// Dimensions (-1 unknown); `nil` when the rank is unknown.
    public var shape: [Int64]?
}

/// A signature as recorded at registration.
public struct SignatureSummary: Sendable, Codable, Equatable {
    public var key: String
    public var inputs: [TensorSummary]
    public var outputs: [TensorSummary]
}

/// What a push records about the artifact, found by inspecting it.
public struct ArtifactFacts: Sendable, Codable, Equatable {
    /// Formats present: `savedmodel`, `onnx`, `tflite` (with variants such as `tflite-fp16`).
    public var formats: [String]
    public var signatures: [SignatureSummary]

    public init(formats: [String], signatures: [SignatureSummary]) {
        self.formats = formats
        self.signatures = signatures
    }
}

/// One immutable version of a model.
public struct VersionRecord: Sendable, Codable, Equatable {
    public var model: String
    public var version: Int64
    public var status: VersionStatus
    /// sha256 over the artifact tree (see `TreeHash`); also the artifact's key in the store.
    public var contentHash: String?
    public var sizeBytes: Int64
    public var formats: [String]
    public var signatures: [SignatureSummary]
    public var createdAt: Date
    public var author: String
    public var description: String
    public var tags: [String]
    /// Anything the pipeline records: benchmark and parity results.
    public var metrics: [String: Double]
    public var lineage: Lineage
    /// Why a FAILED version failed.
    public var failure: String?

    public init(
        model: String, version: Int64, status: VersionStatus, contentHash: String? = nil, sizeBytes: Int64 = 0,
        formats: [String] = [], signatures: [SignatureSummary] = [], createdAt: Date, author: String,
        description: String = "", tags: [String] = [], metrics: [String: Double] = [:], lineage: Lineage = Lineage(),
        failure: String? = nil
    ) {
        self.model = model
        self.version = version
        self.status = status
        self.contentHash = contentHash
        self.sizeBytes = sizeBytes
        self.formats = formats
        self.signatures = signatures
        self.createdAt = createdAt
        self.author = author
        self.description = description
        self.tags = tags
        self.metrics = metrics
        self.lineage = lineage
        self.failure = failure
    }

    enum CodingKeys: String, CodingKey {
        case model, version, status, formats, signatures, author, description, tags, metrics, lineage, failure
        case contentHash = "content_hash"
        case sizeBytes = "size_bytes"
        case createdAt = "created_at"
    }
}

/// An alias (`production`, `staging`, `canary`, any name) and the version it points at.
public struct AliasRecord: Sendable, Codable, Equatable {
    public var model: String
    public var alias: String
    public var version: Int64
    public var updatedAt: Date
    public var updatedBy: String

    public init(model: String, alias: String, version: Int64, updatedAt: Date, updatedBy: String) {
        self.model = model
        self.alias = alias
        self.version = version
        self.updatedAt = updatedAt
        self.updatedBy = updatedBy
    }

    enum CodingKeys: String, CodingKey {
        case model, alias, version
        case updatedAt = "updated_at"
        case updatedBy = "updated_by"
    }
}

/// One entry of a model's audit log: who did what, when, and why.
public struct AuditEvent: Sendable, Codable, Equatable {
    public enum Action: String, Sendable, Codable, Equatable {
        /// An alias was created or moved.
        case aliasSet = "alias_set"
        /// An alias was moved back by `rollback`.
        case rollback
        case aliasRemoved = "alias_removed"
        case versionRegistered = "version_registered"
        case versionFailed = "version_failed"
        case versionDeleted = "version_deleted"
        case versionTagged = "version_tagged"
        case retentionSet = "retention_set"
        /// A traffic split (canary share) was set or cleared.
        case trafficSet = "traffic_set"
    }

    public var id: Int64
    public var model: String
    public var action: Action
    public var alias: String?
    public var fromVersion: Int64?
    public var toVersion: Int64?
    public var actor: String
    public var reason: String
    public var at: Date

    public init(
        id: Int64 = 0, model: String, action: Action, alias: String? = nil, fromVersion: Int64? = nil,
        toVersion: Int64? = nil, actor: String, reason: String, at: Date
    ) {
        self.id = id
        self.model = model
        self.action = action
        self.alias = alias
        self.fromVersion = fromVersion
        self.toVersion = toVersion
        self.actor = actor
        self.reason = reason
        self.at = at
    }

    enum CodingKeys: String, CodingKey {
        case id, model, action, alias, actor, reason, at
        case fromVersion = "from_version"
        case toVersion = "to_version"
    }
}

/// Which versions of a model garbage collection keeps. A version an alias points at is always
/// kept; otherwise a version is kept when either rule keeps it (none set keeps everything).
public struct RetentionPolicy: Sendable, Codable, Equatable {
    /// Keep the N highest READY versions.
    public var keepLast: Int?
    /// Keep versions registered less than this many seconds ago.
    public var keepYoungerThanSeconds: Double?

    public init(keepLast: Int? = nil, keepYoungerThanSeconds: Double? = nil) {
        self.keepLast = keepLast
        self.keepYoungerThanSeconds = keepYoungerThanSeconds
    }

    public var isEmpty: Bool { keepLast == nil && keepYoungerThanSeconds == nil }

    /// Whether the policy keeps `version` out of the model's READY `versions`, `now`.
    public func keeps(_ version: VersionRecord, among versions: [VersionRecord], now: Date) -> Bool {
        if isEmpty { return true }
        if let keepLast {
            let newest = versions.map(\.version).sorted(by: >).prefix(max(keepLast, 0))
            if newest.contains(version.version) { return true }
        }
        if let keepYoungerThanSeconds, now.timeIntervalSince(version.createdAt) < keepYoungerThanSeconds { return true }
        return false
    }

    enum CodingKeys: String, CodingKey {
        case keepLast = "keep_last"
        case keepYoungerThanSeconds = "keep_younger_than_seconds"
    }
}

/// A share of a model's unversioned requests that goes to another alias (a canary).
public struct TrafficSplitRecord: Sendable, Codable, Equatable {
    public var model: String
    public var alias: String
    /// 0 to 1.
    public var weight: Double
    /// Requests with the same value of this header go the same way.
    public var stickyHeader: String?
    public var updatedAt: Date
    public var updatedBy: String

    public init(model: String, alias: String, weight: Double, stickyHeader: String? = nil, updatedAt: Date = Date(), updatedBy: String) {
        self.model = model
        self.alias = alias
        self.weight = weight
        self.stickyHeader = stickyHeader
        self.updatedAt = updatedAt
        self.updatedBy = updatedBy
    }

    enum CodingKeys: String, CodingKey {
        case model, alias, weight
        case stickyHeader = "sticky_header"
        case updatedAt = "updated_at"
        case updatedBy = "updated_by"
    }
}
