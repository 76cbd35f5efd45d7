public import Foundation

/// One stage of a run as recorded: what it did, the numbers behind its decision, and its log.
public struct StageRecord: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable {
        case pending, running, passed, failed, skipped
    }

    public var name: String
    public var status: Status
    public var startedAt: Date?
    public var finishedAt: Date?
    /// The decision in words (`p95 12.3 ms ≤ 500 ms; 4 % slower than production (≤ 10 %)`).
    public var detail: String
    public var numbers: [String: Double]
    public var log: [String]
    /// What later stages (and a resumed run) need: paths, the version registered, the artifact chosen.
    public var outputs: [String: String]

    public init(name: String) {
        self.name = name
        status = .pending
        detail = ""
        numbers = [:]
        log = []
        outputs = [:]
    }

    enum CodingKeys: String, CodingKey {
        case name, status, detail, numbers, log, outputs
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }
}

/// A pipeline run: persisted after every stage, so that it can be shown, resumed after a crash,
/// and told apart from a repeat of the same deployment.
public struct PipelineRun: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable {
        /// Under way (or interrupted: its process is gone and `wharf deploy --resume` continues it).
        case running
        /// The new version is in production (or already was).
        case succeeded
        /// A stage failed; production was not touched.
        case failed
        /// The canary failed and was withdrawn; production was not touched.
        case rolledBack = "rolled_back"
    }

    public static let stageNames = ["validate", "convert", "parity", "benchmark", "register", "staging", "canary", "promote"]

    public var id: String
    public var model: String
    public var source: String
    public var sourceHash: String
    public var targets: [String]
    public var definition: PipelineDefinition
    public var status: Status
    public var createdAt: Date
    public var updatedAt: Date
    public var stages: [StageRecord]
    /// The version registered (when the run got that far).
    public var version: Int64?
    /// What was served and why (`onnx on ONNX Runtime: p95 1.2 ms vs 2.3 ms on TensorFlow`).
    public var decision: String

    public init(id: String, model: String, source: String, sourceHash: String, targets: [String], definition: PipelineDefinition, now: Date = Date()) {
        self.id = id
        self.model = model
        self.source = source
        self.sourceHash = sourceHash
        self.targets = targets
        self.definition = definition
        status = .running
        createdAt = now
        updatedAt = now
        stages = Self.stageNames.map(StageRecord.init(name:))
        decision = ""
    }

    public func stage(_ name: String) -> StageRecord? { stages.first { $0.name == name } }

    enum CodingKeys: String, CodingKey {
        case id, model, source, targets, definition, status, stages, version, decision
        case sourceHash = "source_hash"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}
