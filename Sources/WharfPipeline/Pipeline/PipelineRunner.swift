import Foundation
import Hummingbird
public import Logging
import ServiceLifecycle
import WharfBench
import WharfCore
import WharfHTTP
public import WharfRegistry
import WharfRuntime
import WharfServing

/// Runs a deployment: validate → convert → parity → benchmark gate → register → staging → canary →
/// promote, recording every stage (status, timings, log, the numbers behind each decision) in
/// the registry's database as it goes. Any failure stops the run at that stage; production moves
/// only in `promote`, so a failed run never touches it, and a failed canary is withdrawn.
public final class PipelineRunner: Sendable {
    public let registry: Registry
    public let targets: [TargetClient]
    public let converter: any PipelineConverting
    public let workRoot: String
    public let actor: String
    let logger: Logger
    let report: @Sendable (String) -> Void

    /// - Parameters:
    ///   - registry: where run records are kept (and production's artifact is read for the
    ///     benchmark comparison); the same registry the targets serve from.
    ///   - targets: the servers; the first one takes the registry calls, all are health-checked
    ///     and watched during the canary.
    ///   - report: progress lines for people.
    public init(
        registry: Registry, targets: [TargetClient], converter: any PipelineConverting, workRoot: String, actor: String = Registry.defaultActor,
        logger: Logger = Logger(label: "wharf.pipeline"), report: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.registry = registry
        self.targets = targets
        self.converter = converter
        self.workRoot = workRoot
        self.actor = actor
        self.logger = logger
        self.report = report
    }

    static let activeStatuses = [PipelineRun.Status.running.rawValue]

    /// Starts a new run of `source` as `model`, or resumes `resume` (a run that crashed or failed).
    public func run(source: String, model: String, definition: PipelineDefinition) async throws -> PipelineRun {
        try RegistryNames.validate(model, "model name")
        guard !targets.isEmpty else { throw PipelineError("no target: give --target URL (a running wharf serve)") }
        let path = URL(fileURLWithPath: source).standardizedFileURL.path
        guard FileManager.default.fileExists(atPath: path) else { throw PipelineError("\(path) does not exist") }
        for target in targets { try await target.preflight() }
        let hash = try Self.sourceHash(path)
        let id = Self.newID(model: model)
        var run = PipelineRun(id: id, model: model, source: path, sourceHash: hash, targets: targets.map(\.baseURL), definition: definition)
        if let blocking = try await registry.store.startRun(
            try stored(run), activeStatuses: Self.activeStatuses, isAlive: { Registry.isAlive($0) })
        {
            throw PipelineError("model '\(model)' has a deployment under way: run \(blocking.id) (pid \(blocking.owner.map { String($0.pid) } ?? "?")); deploys of one model run one at a time")
        }
        report("run \(id): deploying \(path) as \(model) to \(targets.map(\.baseURL).joined(separator: ", "))")
        try await execute(&run)
        return run
    }

    /// Continues a run from its first stage that did not pass.
    public func resume(id: String) async throws -> PipelineRun {
        guard let stored = try await registry.store.run(id: id) else { throw PipelineError("no pipeline run '\(id)'") }
        var run = try JSONCoding.decode(PipelineRun.self, stored.payload)
        guard run.status != .succeeded else { throw PipelineError("run \(id) already succeeded; nothing to resume") }
        for target in targets { try await target.preflight() }
        run.status = .running
        if let blocking = try await registry.store.startRun(
            try self.stored(run), activeStatuses: Self.activeStatuses, isAlive: { Registry.isAlive($0) })
        {
            throw PipelineError("model '\(run.model)' has a deployment under way: run \(blocking.id); deploys of one model run one at a time")
        }
        report("run \(id): resuming at \(run.stages.first { $0.status != .passed && $0.status != .skipped }?.name ?? "the end")")
        try await execute(&run)
        return run
    }

    private func execute(_ run: inout PipelineRun) async throws {
        let work = workRoot + "/" + run.id
        try? FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        var context = StageContext(run: run, work: work)
        for index in run.stages.indices {
            let name = run.stages[index].name
            if run.stages[index].status == .passed || run.stages[index].status == .skipped {
                context.outputs.merge(run.stages[index].outputs) { _, new in new }
                continue
            }
            var stage = run.stages[index]
            stage.status = .running
            stage.startedAt = Date()
            stage.log = []
            run.stages[index] = stage
            try await save(run)
            report("· \(name)")
            context.run = run
            do {
                let result = try await perform(name, &context)
                stage.status = result.skipped ? .skipped : .passed
                stage.detail = result.detail
                stage.numbers = result.numbers
                stage.outputs = result.outputs
                context.outputs.merge(result.outputs) { _, new in new }
                report("  \(result.skipped ? "skipped" : "passed"): \(result.detail)")
            } catch let failure as StageFailure {
                stage.status = .failed
                stage.detail = failure.detail
                stage.numbers = failure.numbers
                run.status = failure.rolledBack ? .rolledBack : .failed
                report("  FAILED: \(failure.detail)")
            } catch {
                stage.status = .failed
                stage.detail = "\(error)"
                run.status = .failed
                report("  FAILED: \(error)")
            }
            stage.finishedAt = Date()
            stage.log = context.log
            context.log = []
            run.stages[index] = stage
            if let version = context.outputs["version"].flatMap(Int64.init) { run.version = version }
            if let decision = context.outputs["decision"] { run.decision = decision }
            try await save(run)
            if stage.status == .failed { return }
        }
        run.status = .succeeded
        try await save(run)
    }

    private func save(_ run: PipelineRun) async throws {
        var run = run
        run.updatedAt = Date()
        try await registry.store.saveRun(try stored(run))
    }

    private func stored(_ run: PipelineRun) throws -> RegistryStore.StoredRun {
        RegistryStore.StoredRun(
            id: run.id, model: run.model, status: run.status.rawValue, createdAt: run.createdAt, updatedAt: run.updatedAt,
            owner: run.status == .running ? .current : nil, payload: try JSONCoding.encode(run))
    }

    static func newID(model: String) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        return "\(model)-\(formatter.string(from: Date()))-\(UUID().uuidString.prefix(6).lowercased())"
    }

    /// sha256 of the source: a directory's tree hash, or a file's own hash.
    static func sourceHash(_ path: String) throws -> String {
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        if isDirectory.boolValue { return try TreeHash.of(directory: path).hash }
        let parent = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        return try TreeHash.of(directory: parent).entries.first { $0.path == name }?.sha256 ?? ""
    }
}

/// What the stages hand each other.
struct StageContext {
    var run: PipelineRun
    var work: String
    var outputs: [String: String] = [:]
    var log: [String] = []

    var definition: PipelineDefinition { run.definition }
    var model: String { run.model }
}

/// A stage's outcome.
struct StageResult {
    var detail: String
    var numbers: [String: Double] = [:]
    var outputs: [String: String] = [:]
    var skipped = false
}

/// A stage that decided no: the run stops here.
struct StageFailure: Error {
    var detail: String
    var numbers: [String: Double] = [:]
    var rolledBack = false
}
