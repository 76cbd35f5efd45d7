import Foundation
import Hummingbird
import Synchronization
import Logging
import ServiceLifecycle
import WharfBench
import WharfCore
import WharfHTTP
import WharfMonitoring
import WharfRegistry
import WharfRuntime
import WharfServing

extension PipelineRunner {
    func perform(_ name: String, _ context: inout StageContext) async throws -> StageResult {
        switch name {
        case "validate": try await validate(&context)
        case "convert": try await convert(&context)
        case "parity": try await parity(&context)
        case "benchmark": try await benchmark(&context)
        case "register": try await register(&context)
        case "staging": try await staging(&context)
        case "canary": try await canary(&context)
        case "promote": try await promote(&context)
        default: throw PipelineError("unknown stage \(name)")
        }
    }

    // MARK: validate

    /// The source as a SavedModel (converted from Keras, a TF1 checkpoint or a frozen graph when
    /// needed); it loads, has signatures, and a smoke inference gives finite outputs.
    func validate(_ context: inout StageContext) async throws -> StageResult {
        var savedModel = context.run.source
        var outputs: [String: String] = [:]
        let artifact: ModelLoader.Artifact
        do {
            artifact = try ModelLoader.detect(at: context.run.source)
        } catch {
            throw StageFailure(detail: "\(error)")
        }
        switch artifact.format {
        case .savedModel:
            break
        case .onnx, .tflite:
            throw StageFailure(detail: "the source is \(artifact.format.displayName); the pipeline starts from a TensorFlow model (SavedModel, Keras, TF1 checkpoint, frozen graph)")
        default:
            savedModel = context.work + "/source_saved_model"
            try? FileManager.default.removeItem(atPath: savedModel)
            let log = Log()
            let parameters = try await converter.toSavedModel(source: context.run.source, output: savedModel) { log.add($0) }
            context.log += log.lines
            outputs["source_converter"] = parameters.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
        }
        outputs["saved_model"] = savedModel
        let rows = context.definition.smokeRows
        let modelPath = savedModel
        let result: (signatures: Int, milliseconds: Double, bad: [String]) = try await Self.offThread {
            let model = try ModelLoader().load(path: modelPath)
            guard let signature = model.defaultSignature else {
                throw StageFailure(detail: "the model has no serving_default signature (it has: \(model.signatures.map(\.key).joined(separator: ", ")))")
            }
            let inputs = try InputSynthesizer.synthesize(signature.inputs, batchSize: rows, seed: 7)
            let started = ContinuousClock.now
            let produced = try model.run(signature: signature.key, inputs: inputs)
            let elapsed = started.duration(to: .now)
            var bad: [String] = []
            for (name, tensor) in produced.sorted(by: { $0.key < $1.key }) {
                if let values = tensor.doubleValues(), let index = values.firstIndex(where: { !$0.isFinite }) {
                    bad.append("output '\(name)' holds \(values[index]) (element \(index) of \(values.count))")
                }
            }
            return (model.signatures.count, elapsed.seconds * 1000, bad)
        }
        guard result.bad.isEmpty else {
            throw StageFailure(detail: "smoke inference on \(rows) synthesized rows: \(result.bad.joined(separator: "; "))", numbers: ["signatures": Double(result.signatures)])
        }
        return StageResult(
            detail: "loads on TensorFlow, \(result.signatures) signature(s), smoke inference of \(rows) rows finite in \(String(format: "%.1f", result.milliseconds)) ms",
            numbers: ["signatures": Double(result.signatures), "smoke_ms": result.milliseconds], outputs: outputs)
    }

    // MARK: convert

    func convert(_ context: inout StageContext) async throws -> StageResult {
        let targets = context.definition.convertTargets
        guard !targets.isEmpty else { return StageResult(detail: "no conversions asked for", skipped: true) }
        var outputs: [String: String] = [:]
        var numbers: [String: Double] = [:]
        for target in targets {
            let file = context.work + "/converted/" + (target == "onnx" ? "model.onnx" : "model_\(target.replacingOccurrences(of: "-", with: "_")).tflite")
            try? FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let log = Log()
            let started = ContinuousClock.now
            let parameters: [String: String]
            do {
                parameters = try await converter.convert(
                    savedModel: context.outputs["saved_model"]!, target: target, output: file, calibrationData: context.definition.calibrationData) { log.add($0) }
            } catch {
                context.log += log.lines
                throw StageFailure(detail: "\(target): \(error)")
            }
            context.log += log.lines
            outputs["artifact.\(target)"] = file
            outputs["converter.\(target)"] = parameters.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
            numbers["\(target)_seconds"] = Double(started.duration(to: .now).components.seconds)
        }
        return StageResult(detail: "converted to \(targets.joined(separator: ", "))", numbers: numbers, outputs: outputs)
    }

    // MARK: parity

    func parity(_ context: inout StageContext) async throws -> StageResult {
        let targets = context.definition.convertTargets.filter { context.outputs["artifact.\($0)"] != nil }
        guard !targets.isEmpty else { return StageResult(detail: "nothing converted", skipped: true) }
        var numbers: [String: Double] = [:]
        var details: [String] = []
        var failures: [String] = []
        for target in targets {
            let result = try await converter.parity(
                savedModel: context.outputs["saved_model"]!, converted: context.outputs["artifact.\(target)"]!, target: target,
                maxAbsError: context.definition.parityMaxAbsError, minTop1: context.definition.parityMinTop1)
            for (key, value) in result.numbers { numbers["\(target).\(key)"] = value }
            details.append("\(target): \(result.detail)")
            if !result.passed { failures.append("\(target): \(result.detail)") }
        }
        guard failures.isEmpty else { throw StageFailure(detail: "outputs disagree beyond tolerance: \(failures.joined(separator: "; "))", numbers: numbers) }
        return StageResult(detail: details.joined(separator: "; "), numbers: numbers)
    }

    // MARK: benchmark

    /// Measures the candidate's servable artifacts (TensorFlow, and ONNX Runtime when converted)
    /// and production's, one after another on one in-process server, with `wharf bench`'s runner;
    /// picks the fastest candidate and gates it against the thresholds and production.
    func benchmark(_ context: inout StageContext) async throws -> StageResult {
        let definition = context.definition
        let repository = context.work + "/bench-repo"
        try? FileManager.default.removeItem(atPath: repository)
        let fileManager = FileManager.default
        try fileManager.createDirectory(atPath: repository + "/candidate", withIntermediateDirectories: true)
        try fileManager.copyItem(atPath: context.outputs["saved_model"]!, toPath: repository + "/candidate/1")
        var candidates: [(version: Int64, name: String)] = [(1, "savedmodel on TensorFlow")]
        if let onnx = context.outputs["artifact.onnx"] {
            try fileManager.createDirectory(atPath: repository + "/candidate/2", withIntermediateDirectories: true)
            try fileManager.copyItem(atPath: onnx, toPath: repository + "/candidate/2/model.onnx")
            candidates.append((2, "onnx on ONNX Runtime"))
        }
        try "version_policy: all\n".write(toFile: repository + "/candidate/wharf.yaml", atomically: true, encoding: .utf8)
        var productionVersion: Int64?
        if let current = try await targets[0].model(context.model), let production = current.aliases.first(where: { $0.alias == Registry.productionAlias }) {
            productionVersion = production.version
            if let record = current.versions.first(where: { $0.version == production.version }), let hash = record.contentHash,
                let path = try? await registry.artifacts.materialize(hash: hash)
            {
                try fileManager.createDirectory(atPath: repository + "/production", withIntermediateDirectories: true)
                try fileManager.copyItem(atPath: path, toPath: repository + "/production/1")
                if let config = ["wharf.yaml", "wharf.yml", "config.yaml"].first(where: { fileManager.fileExists(atPath: path + "/" + $0) }) {
                    try fileManager.copyItem(atPath: path + "/" + config, toPath: repository + "/production/wharf.yaml")
                }
            } else {
                context.log.append("production's artifact (version \(production.version)) is not readable from this registry; gating on absolute thresholds only")
            }
        }
        let measured = try await LocalBench.measure(
            repository: repository, runs: candidates.map { ("candidate", $0.version) } + (fileManager.fileExists(atPath: repository + "/production") ? [("production", 1)] : []),
            definition: definition, logger: logger)
        var numbers: [String: Double] = [:]
        for (index, candidate) in candidates.enumerated() {
            let key = candidate.version == 1 ? "tensorflow" : "onnxruntime"
            numbers["\(key).p95_ms"] = measured[index].p95Milliseconds
            numbers["\(key).throughput"] = measured[index].throughput
        }
        let best = candidates.indices.min { measured[$0].p95Milliseconds < measured[$1].p95Milliseconds }!
        let chosen = measured[best]
        numbers["p95_ms"] = chosen.p95Milliseconds
        numbers["throughput"] = chosen.throughput
        var reasons: [String] = []
        var failures: [String] = []
        func note(_ passed: Bool, _ text: String) {
            if passed { reasons.append(text) } else { failures.append(text) }
        }
        if let limit = definition.maxP95Milliseconds {
            note(chosen.p95Milliseconds <= limit, String(format: "p95 %.2f ms %@ %.2f ms", chosen.p95Milliseconds, chosen.p95Milliseconds <= limit ? "≤" : ">", limit))
        }
        if let floor = definition.minThroughput {
            note(chosen.throughput >= floor, String(format: "%.1f req/s %@ %.1f", chosen.throughput, chosen.throughput >= floor ? "≥" : "<", floor))
        }
        if measured.count > candidates.count {
            let production = measured[candidates.count]
            numbers["production.p95_ms"] = production.p95Milliseconds
            numbers["production.throughput"] = production.throughput
            let slower = chosen.p95Milliseconds / production.p95Milliseconds - 1
            let lower = 1 - chosen.throughput / production.throughput
            numbers["p95_regression"] = slower
            numbers["throughput_regression"] = lower
            let text = String(
                format: "p95 %.2f ms vs production %.2f ms (%+.0f %%), %.0f vs %.0f req/s (limit %.0f %% slower)", chosen.p95Milliseconds,
                production.p95Milliseconds, slower * 100, chosen.throughput, production.throughput, definition.maxRegression * 100)
            note(slower <= definition.maxRegression && lower <= definition.maxRegression, text)
        }
        let choice = candidates[best]
        let why = candidates.count > 1
            ? "\(choice.name) is the fastest that passed parity: " + candidates.indices.map { String(format: "%@ p95 %.2f ms", candidates[$0].name, measured[$0].p95Milliseconds) }.joined(separator: ", ")
            : "\(choice.name) (the only artifact)"
        guard failures.isEmpty else {
            throw StageFailure(detail: "benchmark gate: \(failures.joined(separator: "; "))", numbers: numbers)
        }
        var outputs = ["runtime": choice.version == 1 ? "tensorflow" : "onnxruntime", "decision": why]
        if let productionVersion { outputs["production_version"] = String(productionVersion) }
        return StageResult(detail: ([why] + reasons).joined(separator: "; "), numbers: numbers, outputs: outputs)
    }

    // MARK: register

    /// The version's artifact: the SavedModel, the converted files, and a wharf.yaml that serves
    /// the runtime the benchmark chose. Pushed through the first target's management API, unless a
    /// READY version with the same content is there already (a repeated deploy).
    func register(_ context: inout StageContext) async throws -> StageResult {
        let artifact = context.work + "/artifact"
        let fileManager = FileManager.default
        try? fileManager.removeItem(atPath: artifact)
        try fileManager.copyItem(atPath: context.outputs["saved_model"]!, toPath: artifact)
        var parameters: [String: String] = [:]
        for target in context.definition.convertTargets {
            guard let file = context.outputs["artifact.\(target)"] else { continue }
            try fileManager.copyItem(atPath: file, toPath: artifact + "/" + (file as NSString).lastPathComponent)
            parameters[target] = context.outputs["converter.\(target)"]
        }
        try "runtime: \(context.outputs["runtime"] ?? "tensorflow")\n".write(toFile: artifact + "/wharf.yaml", atomically: true, encoding: .utf8)
        let hash = try TreeHash.of(directory: artifact).hash
        // A repeated deployment: a version built from the same source (production's first), or
        // holding the very same artifact, is used again instead of registering another.
        let current = try await targets[0].model(context.model)
        let production = current?.aliases.first { $0.alias == Registry.productionAlias }?.version
        let ready = (current?.versions ?? []).filter { $0.status == .ready }.sorted { ($0.version == production ? 0 : 1, -$0.version) < ($1.version == production ? 0 : 1, -$1.version) }
        if let existing = ready.first(where: { $0.contentHash == hash || $0.lineage.sourceHash == context.run.sourceHash }) {
            let why = existing.contentHash == hash ? "this artifact (sha256 \(hash.prefix(12)))" : "a deployment of this source (sha256 \(context.run.sourceHash.prefix(12)))"
            return StageResult(
                detail: "version \(existing.version) already holds \(why); not registered again", outputs: ["version": String(existing.version)])
        }
        var metrics: [String: Double] = [:]
        for stage in context.run.stages where ["parity", "benchmark"].contains(stage.name) {
            for (key, value) in stage.numbers { metrics["\(stage.name).\(key)"] = value }
        }
        var lineage = Lineage(sourcePath: context.run.source, sourceHash: context.run.sourceHash, converter: "wharf pipeline", converterParameters: parameters)
        lineage.converterParameters["run"] = context.run.id
        if let source = context.outputs["source_converter"] { lineage.converterParameters["to_savedmodel"] = source }
        lineage.parentVersion = context.outputs["production_version"].flatMap(Int64.init)
        let record = try await targets[0].push(
            model: context.model, path: artifact, description: "pipeline run \(context.run.id): \(context.outputs["decision"] ?? "")",
            metrics: metrics, lineage: lineage, actor: actor)
        return StageResult(
            detail: "registered version \(record.version) (sha256 \(hash.prefix(12)), \(record.formats.joined(separator: ", ")))",
            outputs: ["version": String(record.version)])
    }

    // MARK: staging

    func staging(_ context: inout StageContext) async throws -> StageResult {
        let version = Int64(context.outputs["version"]!)!
        try await targets[0].setAlias(model: context.model, alias: "staging", version: version, reason: "pipeline run \(context.run.id)", actor: actor)
        let deadline = ContinuousClock.now + .milliseconds(Int(context.definition.stagingTimeoutSeconds * 1000))
        for target in targets {
            while !(await target.isReady(model: context.model, version: version)) {
                guard ContinuousClock.now < deadline else {
                    throw StageFailure(detail: "version \(version) did not become ready on \(target.baseURL) within \(Int(context.definition.stagingTimeoutSeconds)) s")
                }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        let body = try await smokeBody(context)
        for target in targets {
            let (status, text) = try await target.infer(model: context.model, version: version, body: body)
            guard status == 200 else {
                throw StageFailure(detail: "health check on \(target.baseURL): inference on version \(version) answered \(status): \(text.prefix(300))")
            }
        }
        return StageResult(detail: "staging → \(version); ready and answering on \(targets.count) target(s)")
    }

    /// A V2 JSON request of synthesized inputs for the model's default signature.
    func smokeBody(_ context: StageContext) async throws -> Data {
        let path = context.outputs["saved_model"]!
        let rows = context.definition.smokeRows
        return try await Self.offThread {
            let model = try ModelLoader().load(path: path)
            guard let signature = model.defaultSignature else { throw PipelineError("no default signature") }
            let inputs = try InputSynthesizer.synthesize(signature.inputs, batchSize: rows, seed: 11)
            return Data(RequestEncoder.encode(inputs, outputs: signature.outputs.map(\.name), inferenceProtocol: .v2JSON, model: "m", version: nil).body)
        }
    }

    // MARK: canary

    /// A share of production's traffic goes to the new version for a while; its error rate and
    /// p95, live on the targets, are compared with production's. A failing canary is withdrawn
    /// (its share set to 0, its alias removed) and production never moved.
    func canary(_ context: inout StageContext) async throws -> StageResult {
        let version = Int64(context.outputs["version"]!)!
        let definition = context.definition
        let production = try await targets[0].model(context.model)?.aliases.first { $0.alias == Registry.productionAlias }?.version
        guard let production else { return StageResult(detail: "no production version yet: nothing to compare with", skipped: true) }
        guard production != version else { return StageResult(detail: "version \(version) is production already", skipped: true) }
        guard definition.canaryEnabled, definition.canaryWeight > 0 else { return StageResult(detail: "canary turned off", skipped: true) }
        let primary = targets[0]
        try await primary.setAlias(model: context.model, alias: "canary", version: version, reason: "pipeline run \(context.run.id)", actor: actor)
        try await primary.setTraffic(
            model: context.model, alias: "canary", weight: definition.canaryWeight, stickyHeader: definition.canaryStickyHeader,
            reason: "pipeline run \(context.run.id)", actor: actor)
        context.log.append(String(format: "canary: %.0f %% of production's traffic to version %lld for %.0f s", definition.canaryWeight * 100, version, definition.canarySeconds))
        let clock = ContinuousClock()
        let end = clock.now + .milliseconds(Int(definition.canarySeconds * 1000))
        var canaryStats = (requests: 0, errors: 0, p95: Double?.none)
        var productionStats = (requests: 0, errors: 0, p95: Double?.none)
        var verdict: String?
        func add(_ window: WindowStats?, to stats: inout (requests: Int, errors: Int, p95: Double?)) {
            guard let window else { return }
            stats.requests += window.requests
            stats.errors += window.errors
            stats.p95 = max(stats.p95 ?? 0, window.latencyP95 ?? 0)
        }
        repeat {
            try await Task.sleep(for: .seconds(1))
            canaryStats = (0, 0, nil)
            productionStats = (0, 0, nil)
            for target in targets {
                let windows = try await target.windows(model: context.model)
                add(windows[version], to: &canaryStats)
                add(windows[production], to: &productionStats)
            }
            // Stop early once the canary clearly fails.
            if canaryStats.requests >= max(definition.canaryMinRequests, 10),
                Double(canaryStats.errors) / Double(canaryStats.requests) > definition.canaryMaxErrorRate
            {
                verdict = "error rate"
                break
            }
        } while clock.now < end
        let canaryRate = canaryStats.requests > 0 ? Double(canaryStats.errors) / Double(canaryStats.requests) : 0
        let productionRate = productionStats.requests > 0 ? Double(productionStats.errors) / Double(productionStats.requests) : 0
        var numbers: [String: Double] = [
            "canary.requests": Double(canaryStats.requests), "canary.error_rate": canaryRate,
            "production.requests": Double(productionStats.requests), "production.error_rate": productionRate,
        ]
        if let p95 = canaryStats.p95 { numbers["canary.p95_ms"] = p95 * 1000 }
        if let p95 = productionStats.p95 { numbers["production.p95_ms"] = p95 * 1000 }
        var failures: [String] = []
        if verdict != nil || canaryRate > definition.canaryMaxErrorRate {
            failures.append(String(format: "canary error rate %.1f %% of %d requests > %.1f %% (production %.1f %%)", canaryRate * 100, canaryStats.requests, definition.canaryMaxErrorRate * 100, productionRate * 100))
        }
        if canaryStats.requests < definition.canaryMinRequests {
            failures.append("only \(canaryStats.requests) canary requests (at least \(definition.canaryMinRequests) needed for a verdict)")
        }
        if let canaryP95 = canaryStats.p95, let productionP95 = productionStats.p95, productionP95 > 0, canaryStats.requests > 0,
            canaryP95 / productionP95 > definition.canaryMaxP95Ratio
        {
            failures.append(String(format: "canary p95 %.1f ms is %.2f× production's %.1f ms (limit %.2f×)", canaryP95 * 1000, canaryP95 / productionP95, productionP95 * 1000, definition.canaryMaxP95Ratio))
        }
        if !failures.isEmpty {
            try await withdrawCanary(context)
            throw StageFailure(detail: "canary rolled back: \(failures.joined(separator: "; ")); production stays on version \(production)", numbers: numbers, rolledBack: true)
        }
        return StageResult(
            detail: String(format: "canary healthy: %d requests, error rate %.1f %% (production %.1f %%)%@", canaryStats.requests, canaryRate * 100, productionRate * 100,
                canaryStats.p95.map { String(format: ", p95 %.1f ms", $0 * 1000) } ?? ""),
            numbers: numbers)
    }

    private func withdrawCanary(_ context: StageContext) async throws {
        try await targets[0].setTraffic(model: context.model, alias: "canary", weight: 0, stickyHeader: nil, reason: "pipeline run \(context.run.id): withdrawn", actor: actor)
        try await targets[0].removeAlias(model: context.model, alias: "canary", actor: actor)
    }

    // MARK: promote

    func promote(_ context: inout StageContext) async throws -> StageResult {
        let version = Int64(context.outputs["version"]!)!
        let current = try await targets[0].model(context.model)
        let production = current?.aliases.first { $0.alias == Registry.productionAlias }?.version
        if production != version {
            try await targets[0].setAlias(
                model: context.model, alias: Registry.productionAlias, version: version,
                reason: "pipeline run \(context.run.id): \(context.outputs["decision"] ?? "passed every stage")", actor: actor)
        }
        if current?.aliases.contains(where: { $0.alias == "canary" }) == true { try await withdrawCanary(context) }
        return StageResult(detail: production == version ? "version \(version) was production already" : "production \(production.map(String.init) ?? "(none)") → \(version)")
    }

    /// Runs blocking work (model loads, runtime calls) on a thread of its own.
    static func offThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try work() })
            }
        }
    }
}

/// Collects progress lines from another thread.
final class Log: Sendable {
    private let storage = Mutex<[String]>([])
    func add(_ line: String) { storage.withLock { $0.append(line) } }
    var lines: [String] { storage.withLock { $0 } }
}
