import ArgumentParser
import Foundation
import Synchronization
import WharfBench

/// `wharf bench`: offers load to a running server and measures throughput and latency, in the
/// spirit of Triton's perf_analyzer.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure a running server's throughput and latency under load (like Triton's perf_analyzer).",
        discussion: """
            Closed loop (default): for each --concurrency, that many clients send requests back to back. \
            Open loop (--request-rate): requests leave on a fixed schedule and latency counts from the scheduled \
            time, so a slow server shows in the latency; requests that must wait for --max-in-flight count as late, \
            those never sent as dropped.
            Inputs are random values shaped from the model's KServe V2 metadata (GET /v2/models/<model>): a dynamic \
            first dimension becomes --batch-size, other dynamic dimensions 1. --input sends a file's tensors instead: \
            {"inputs": {"name": [[...]]}} or any TF Serving predict body.
            Latencies are in milliseconds on screen, microseconds in --json and --csv. The exit status is 1 when any \
            request failed.
            """)

    @Option(help: "The server's base URL.")
    var url = "http://127.0.0.1:8501"

    @Option(help: "The model to benchmark.")
    var model: String

    @Option(help: "A specific model version (default: the latest).")
    var version: Int64?

    @Option(name: .customLong("protocol"), help: "tfserving, v2-json or v2-binary.")
    var wireProtocol = InferenceProtocol.v2Binary.rawValue

    @Option(name: .customLong("batch-size"), help: "Rows per request for generated inputs.")
    var batchSize = 1

    @Option(help: "Concurrencies to measure, one step each, comma-separated (e.g. 1,4,16).")
    var concurrency: String?

    @Option(name: .customLong("request-rate"), help: "Open loop: send this many requests per second instead.")
    var requestRate: Double?

    @Option(name: .customLong("max-in-flight"), help: "Open loop: most requests outstanding at once.")
    var maxInFlight = 128

    @Option(help: "Seconds to measure each step.")
    var duration: Double = 10

    @Option(help: "Seconds of load before each step's measurement.")
    var warmup: Double = 2

    @Option(help: "Seconds without an answer before a request counts as failed.")
    var timeout: Double = 30

    @Option(help: "A JSON file with the inputs to send instead of generated ones.")
    var input: String?

    @Option(help: "Write the results as JSON to this file.")
    var json: String?

    @Option(help: "Write the results as CSV to this file.")
    var csv: String?

    @Option(
        name: .customLong("dump-request"),
        help: "Write the first step's request body to this file (and a binary request's JSON header length to FILE.header), then exit.")
    var dumpRequest: String?

    @Flag(help: "Show a progress line on standard error even when it is not a terminal.")
    var progress = false

    func validate() throws {
        let configuration = try benchConfiguration()
        do {
            try configuration.validate()
        } catch {
            throw ValidationError(error.message)
        }
    }

    func run() async throws {
        let configuration = try benchConfiguration()
        let runner = BenchRunner(configuration: configuration)
        if let dumpRequest {
            try await dump(runner: runner, to: dumpRequest)
            return
        }
        let line = progress || isatty(STDERR_FILENO) == 1 ? ProgressLine() : nil
        let report: BenchReport
        do {
            var callback: (@Sendable (BenchProgress) -> Void)?
            if let line { callback = { progress in line.show(progress.line) } }
            report = try await runner.run(progress: callback)
        } catch {
            line?.clear()
            throw CLIError(error)
        }
        line?.clear()
        print(report.headline)
        print(report.table(), terminator: "")
        if let json { try write(report.jsonBytes(), to: json, option: "--json") }
        if let csv { try write(Array(report.csv().utf8), to: csv, option: "--csv") }
        if report.totalErrors > 0 { throw ExitCode(1) }
    }

    private func benchConfiguration() throws -> BenchConfiguration {
        guard let inferenceProtocol = InferenceProtocol(rawValue: wireProtocol) else {
            throw ValidationError(
                "--protocol expects one of \(InferenceProtocol.allCases.map(\.rawValue).joined(separator: ", ")), got '\(wireProtocol)'")
        }
        let mode: LoadMode
        if let requestRate {
            guard concurrency == nil else {
                throw ValidationError("--concurrency (closed loop) and --request-rate (open loop) exclude each other; give one")
            }
            mode = .openLoop(requestsPerSecond: requestRate, maxInFlight: maxInFlight)
        } else {
            mode = .closedLoop(concurrencies: try concurrencies())
        }
        for (name, value) in [("--duration", duration), ("--warmup", warmup), ("--timeout", timeout)] {
            guard value.isFinite, value >= 0, value <= 86_400 else {
                throw ValidationError("\(name) expects seconds between 0 and 86400, got \(value)")
            }
        }
        return BenchConfiguration(
            baseURL: url, model: model, version: version, inferenceProtocol: inferenceProtocol, batchSize: batchSize,
            mode: mode, duration: .seconds(duration), warmup: .seconds(warmup), inputFile: input,
            requestTimeout: .seconds(timeout))
    }

    private func concurrencies() throws -> [Int] {
        guard let concurrency else { return [1] }
        let parts = concurrency.split(separator: ",", omittingEmptySubsequences: false)
        return try parts.map { part in
            guard let value = Int(part.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--concurrency expects a comma-separated list of positive integers like 1,4,16; got '\(concurrency)'")
            }
            return value
        }
    }

    private func dump(runner: BenchRunner, to path: String) async throws {
        let request: EncodedRequest
        do {
            request = try await runner.prepareRequest().request
        } catch {
            throw CLIError(error)
        }
        try write(request.body, to: path, option: "--dump-request")
        if let headerLength = request.headerLength {
            try write(Array(String(headerLength).utf8), to: path + ".header", option: "--dump-request")
        }
        let header = request.headerLength.map { ", Inference-Header-Content-Length: \($0)" } ?? ""
        print("POST \(runner.configuration.normalizedBaseURL)\(request.path) (\(request.body.count) bytes, \(request.contentType)\(header)) written to \(path)")
    }

    private func write(_ bytes: [UInt8], to path: String, option: String) throws {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        } catch {
            throw ValidationError("\(option) cannot write \(path): \(error.localizedDescription)")
        }
    }
}

/// A progress line on standard error, redrawn in place with a carriage return.
private final class ProgressLine: Sendable {
    private let width = Mutex(0)

    func show(_ text: String) {
        width.withLock { width in
            let padding = String(repeating: " ", count: max(0, width - text.count))
            FileHandle.standardError.write(Data(("\r" + text + padding).utf8))
            width = text.count
        }
    }

    func clear() {
        width.withLock { width in
            guard width > 0 else { return }
            FileHandle.standardError.write(Data(("\r" + String(repeating: " ", count: width) + "\r").utf8))
            width = 0
        }
    }
}
