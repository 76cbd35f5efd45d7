import ArgumentParser
import Foundation
import WharfPipeline
import WharfServing
import WharfRegistry

/// `wharf deploy`: one command from a trained model to production, through every gate.
struct Deploy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Take a model to production: validate, convert, parity, benchmark gate, register, staging, canary, promote.",
        discussion: """
            SRC is a SavedModel directory, a Keras .keras/.h5 file, a TF1 checkpoint (.meta) or a frozen graph (.pb). \
            Targets are running `wharf serve` instances with a registry (the first one takes the registry calls; all are \
            health-checked and watched during the canary). Any failing stage stops the run with production untouched; \
            a failing canary is withdrawn. Every run and stage is recorded (`wharf runs list|show`); `--resume RUN` \
            continues a run that crashed. Deploys of one model run one at a time.
            """)

    @Argument(help: "The trained model (omit with --resume).") var source: String?
    @Option(help: "The model's name in the registry.") var model: String?
    @Option(help: "The pipeline (YAML); defaults apply without one.") var pipeline: String?
    @Option(help: "A target server (repeatable; default: $WHARF_SERVER or http://127.0.0.1:8501).") var target: [String] = []
    @Option(help: "The targets' management API token (default: $WHARF_API_TOKEN, else DATA_DIR/api-token).") var token: String?
    @Option(help: "Continue this run from its first stage that did not pass.") var resume: String?
    @OptionGroup(title: "Registry (run records)") var registryOptions: RegistryOptions
    @Flag(help: "Print the run as JSON at the end.") var json = false

    func run() async throws {
        var definition = PipelineDefinition()
        if let pipeline {
            do {
                definition = try PipelineDefinition.load(path: pipeline)
            } catch {
                throw ValidationError(error.message)
            }
        }
        let location = registryOptions.location
        let apiToken = token ?? ProcessInfo.processInfo.environment["WHARF_API_TOKEN"]
            ?? (try? String(contentsOfFile: location.dataDirectory + "/api-token", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        let urls = target.isEmpty ? [ServerOptions.defaultURL] : target
        let result = try await withRegistry(registryOptions, inspect: false) { registry in
            let runner = PipelineRunner(
                registry: registry, targets: urls.map { TargetClient(baseURL: $0, token: apiToken) }, converter: PythonConverter(),
                workRoot: location.dataDirectory + "/runs") { line in
                    FileHandle.standardError.write(Data((line + "\n").utf8))
                }
            if let resume { return try await runner.resume(id: resume) }
            guard let source, let model else { throw ValidationError("give SRC and --model NAME (or --resume RUN)") }
            return try await runner.run(source: source, model: model, definition: definition)
        }
        if json { try printJSON(result) } else { print(runSummary(result)) }
        if result.status != .succeeded { throw ExitCode(1) }
    }
}

func runSummary(_ run: PipelineRun) -> String {
    var table = TextTable("STAGE", "STATUS", "SECONDS", "DETAIL")
    for stage in run.stages {
        let seconds = stage.startedAt.flatMap { start in stage.finishedAt.map { String(format: "%.1f", $0.timeIntervalSince(start)) } } ?? ""
        table.add(stage.name, stage.status.rawValue, seconds, stage.detail)
    }
    var lines = ["run \(run.id): \(run.status.rawValue.uppercased())  model \(run.model)\(run.version.map { "  version \($0)" } ?? "")", "", table.rendered]
    if !run.decision.isEmpty { lines += ["", "served: \(run.decision)"] }
    return lines.joined(separator: "\n")
}

struct Runs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pipeline runs: every deployment and its stages.", subcommands: [List.self, Show.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The latest runs.")
        @OptionGroup var registry: RegistryOptions
        @Option(help: "Only this model.") var model: String?
        @Option(help: "How many.") var limit: Int = 20
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let runs = try await withRegistry(registry, inspect: false) { registry in
                try await registry.store.runs(model: model, limit: limit).map { try JSONCoding.decode(PipelineRun.self, $0.payload) }
            }
            if json { return try printJSON(runs) }
            guard !runs.isEmpty else { return print("no pipeline runs; start one with `wharf deploy SRC --model NAME`") }
            var table = TextTable("RUN", "MODEL", "STATUS", "VERSION", "STARTED", "LAST STAGE")
            for run in runs {
                let last = run.stages.last { $0.status != .pending }
                table.add(
                    run.id, run.model, run.status.rawValue, run.version.map(String.init) ?? "-", TextTable.time(run.createdAt),
                    last.map { "\($0.name) \($0.status.rawValue)" } ?? "-")
            }
            print(table.rendered)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One run: each stage, its numbers and its log.")
        @OptionGroup var registry: RegistryOptions
        @Argument(help: "The run id.") var id: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let run = try await withRegistry(registry, inspect: false) { registry in
                guard let stored = try await registry.store.run(id: id) else { throw CLIError(message: "no pipeline run '\(id)'; see `wharf runs list`") }
                return try JSONCoding.decode(PipelineRun.self, stored.payload)
            }
            if json { return try printJSON(run) }
            print(runSummary(run))
            for stage in run.stages where !stage.numbers.isEmpty || !stage.log.isEmpty {
                print("\n\(stage.name):")
                for (key, value) in stage.numbers.sorted(by: { $0.key < $1.key }) { print("  \(key) = \(String(format: "%.6g", value))") }
                for line in stage.log { print("  | \(line)") }
            }
        }
    }
}
