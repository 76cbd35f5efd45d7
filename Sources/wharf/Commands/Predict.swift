import ArgumentParser
import Foundation
import WharfCore
import WharfProtocols
import Synchronization
import WharfRuntime
import WharfServing

/// `wharf predict PATH --input FILE|-`: one TF Serving-style predict request against a model file.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a TF Serving REST predict request (JSON) against a SavedModel or .onnx model.",
        discussion: """
            The request is a TensorFlow Serving predict body: {"instances": [...]} (row format) or \
            {"inputs": ...} (columnar), with an optional "signature_name". The answer is TF Serving's: \
            {"predictions": ...} for row requests, {"outputs": ...} for columnar ones.

            Offline batch inference: an --input ending in .jsonl (one row instance per line) or .npy \
            (an array for a single-input model) is run in batches of --batch-size on --instances sessions \
            in parallel; the answer is one JSON object per row, in input order, to --output-file or stdout, \
            with progress and throughput on stderr.
            """)

    @Argument(help: "A SavedModel directory, a .onnx file, or a directory holding model.onnx.")
    var path: String

    @Option(name: .shortAndLong, help: "The request JSON file, or - for standard input.")
    var input: String

    @Option(help: "The signature to run (overrides the request's signature_name).")
    var signature: String?

    @Option(name: .customLong("output"), help: "Only return this output (repeatable).")
    var outputs: [String] = []

    @Flag(help: "Indent the JSON answer.")
    var pretty = false

    @Option(name: .customLong("batch-size"), help: "Offline (.jsonl/.npy input): rows per batch.")
    var batchSize = 32

    @Option(help: "Offline (.jsonl/.npy input): sessions running batches in parallel (default: cores).")
    var instances: Int?

    @Option(name: .customLong("output-file"), help: "Offline (.jsonl/.npy input): where to write the JSON lines.")
    var outputFile: String?

    @OptionGroup var runtime: RuntimeFlags

    func run() throws {
        let body: Data
        if input == "-" {
            body = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let data = FileManager.default.contents(atPath: input) else {
                throw ValidationError("cannot read the request file \(input)")
            }
            body = data
        }
        if input.hasSuffix(".jsonl") || input.hasSuffix(".npy") {
            return try runOffline(contents: [UInt8](body))
        }
        do {
            let model = try runtime.loader.load(path: path)
            let overriding = signature
            let request = try TFServingJSON.decodePredictRequest([UInt8](body)) { name in
                let key = overriding ?? name
                if let key, !key.isEmpty { return try model.signature(named: key) }
                return try model.defaultSignature ?? model.signature(named: Signature.defaultKey)
            }
            let results = try model.run(
                signature: request.signatureKey, inputs: request.inputs, outputs: outputs.isEmpty ? nil : outputs)
            var answer = try TFServingJSON.encodePredictResponse(results, format: request.format)
            if pretty, let object = try? JSONSerialization.jsonObject(with: Data(answer)),
                let indented = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            {
                answer = [UInt8](indented)
            }
            print(String(decoding: answer, as: UTF8.self))
        } catch {
            throw CLIError(error)
        }
    }

    /// Offline batch inference over a large input set.
    private func runOffline(contents: [UInt8]) throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size expects a positive number, got \(batchSize)") }
        let count = instances ?? ProcessInfo.processInfo.activeProcessorCount
        guard count > 0 else { throw ValidationError("--instances expects a positive number, got \(count)") }
        do {
            let loader = runtime.loader
            let models = try (0..<count).map { _ in try loader.load(path: path) }
            let runner = OfflineBatchRunner(
                models: models, batchSize: batchSize, signature: signature, outputs: outputs.isEmpty ? nil : outputs)
            let batches = try runner.batches(fromFile: input, contents: contents)
            let total = batches.reduce(0) { $0 + ($1.values.first?.rowCount ?? 0) }
            let started = ContinuousClock.now
            let progress = ProgressBar(total: total)
            let lines = try runner.run(batches) { done in progress.update(done) }
            let elapsed = started.duration(to: .now)
            progress.finish()
            var output = [UInt8]()
            for line in lines {
                output += line
                output.append(UInt8(ascii: "\n"))
            }
            if let outputFile {
                guard FileManager.default.createFile(atPath: outputFile, contents: Data(output)) else {
                    throw ValidationError("cannot write \(outputFile)")
                }
            } else {
                FileHandle.standardOutput.write(Data(output))
            }
            let seconds = elapsed.seconds
            FileHandle.standardError.write(Data(String(
                format: "%d rows in %d batches on %d instances: %.2f s, %.0f rows/s\n", total, batches.count, count, seconds,
                Double(total) / max(seconds, 1e-9)).utf8))
        } catch let error as ValidationError {
            throw error
        } catch {
            throw CLIError(error)
        }
    }
}

/// A progress bar on stderr, redrawn in place at most every 1 %.
final class ProgressBar: Sendable {
    private let total: Int
    private let shown = Atomic<Int>(-1)

    init(total: Int) { self.total = max(total, 1) }

    func update(_ done: Int) {
        let percent = min(100, done * 100 / total)
        let previous = shown.exchange(percent, ordering: .relaxed)
        guard percent != previous else { return }
        let filled = percent * 30 / 100
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled)
        FileHandle.standardError.write(Data("\r[\(bar)] \(percent)% \(done)/\(total) rows".utf8))
    }

    func finish() { FileHandle.standardError.write(Data("\n".utf8)) }
}
