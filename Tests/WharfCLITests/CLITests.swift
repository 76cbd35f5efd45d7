import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import WharfTesting

/// The built `wharf` binary, run as a user would: output and exit code.
@Suite(.enabled(if: Fixtures.available, "run scripts/bootstrap to build the fixtures"))
struct CLITests {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `wharf` with `arguments`, feeding `input` on stdin.
    static func wharf(_ arguments: [String], input: String? = nil, environment: [String: String]? = nil) throws -> Result {
        let binary = Fixtures.repositoryRoot.appendingPathComponent(".build/debug/wharf")
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = Fixtures.repositoryRoot
        if let environment { process.environment = environment }
        let stdout = Pipe()
        let stderr = Pipe()
        let stdin = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
            stderr: String(decoding: err, as: UTF8.self))
    }

    @Test func doctorFindsBothRuntimes() throws {
        let result = try Self.wharf(["doctor"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("TensorFlow     2.21.0"))
        #expect(result.stdout.contains("ONNX Runtime   1.31.1"))
        #expect(result.stdout.contains("cores:"))
    }

    /// Starts `wharf serve` with `arguments` on a free port and waits until it is ready.
    static func startServe(_ arguments: [String]) async throws -> (process: Process, stderr: Pipe, port: Int) {
        let port = unusedPort()
        let process = Process()
        process.executableURL = Fixtures.repositoryRoot.appendingPathComponent(".build/debug/wharf")
        process.arguments = ["serve"] + arguments + ["--http-port", String(port), "--log-level", "warning"]
        let stderr = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = stderr
        try process.run()
        var ready = false
        for _ in 0..<300 where !ready {
            try await Task.sleep(for: .milliseconds(100))
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v2/health/ready")!)
            request.timeoutInterval = 2
            ready = ((try? await URLSession.shared.data(for: request))?.1 as? HTTPURLResponse)?.statusCode == 200
        }
        #expect(ready, "the server never turned ready")
        return (process, stderr, port)
    }

    /// SIGTERM drains and stops `wharf serve` with status 0 and no error: the periodic services
    /// (repository watcher, alert rules) end quietly when the server shuts down.
    @Test func serveStopsCleanlyOnSIGTERM() async throws {
        let repository = try ScratchRepository()
        try repository.addVersion("mlp", 1, fixture: "mlp", onnx: true)
        let (process, stderr, _) = try await Self.startServe(["--model-repository", repository.root.path])
        process.terminate()
        let errors = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(errors)")
        #expect(!errors.contains("Error"), "\(errors)")
    }

    /// `http_threads` in the server's configuration file sets how many event loop threads the HTTP
    /// server runs (counted by name in /proc); a value outside 1...1024 stops the start with an
    /// error that says what was expected.
    @Test func httpThreadsFromTheConfigurationFile() async throws {
        let repository = try ScratchRepository()
        try repository.addVersion("mlp", 1, fixture: "mlp", onnx: true)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wharf-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("server.yaml")
        try "model_repositories: [\(repository.root.path)]\nhttp_threads: 3\npoll_interval_seconds: 0\n"
            .write(to: config, atomically: true, encoding: .utf8)
        let (process, _, _) = try await Self.startServe(["--config", config.path])
        let tasks = "/proc/\(process.processIdentifier)/task"
        let names = try FileManager.default.contentsOfDirectory(atPath: tasks).compactMap {
            try? String(contentsOfFile: "\(tasks)/\($0)/comm", encoding: .utf8)
        }
        process.terminate()
        process.waitUntilExit()
        // SwiftNIO names a group's threads NIO-ELT-<group>-#<loop>; its default group's, NIO-SGLTN-.
        #expect(names.filter { $0.hasPrefix("NIO-ELT-") }.count == 3, "\(names.sorted())")
        #expect(!names.contains { $0.hasPrefix("NIO-SGLTN-") }, "\(names.sorted())")

        try "model_repositories: [\(repository.root.path)]\nhttp_threads: 0\n".write(to: config, atomically: true, encoding: .utf8)
        let refused = try Self.wharf(["serve", "--config", config.path])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("http_threads expects 1-1024 event loop threads, got 0"), "\(refused.stderr)")
    }

    @Test func doctorReportsAMissingRuntime() throws {
        var environment = ProcessInfo.processInfo.environment
        environment["WHARF_ORT_LIB"] = "/nonexistent/libonnxruntime.so"
        let result = try Self.wharf(["doctor"], environment: environment)
        #expect(result.status == 1)
        #expect(result.stdout.contains("MISSING"))
        #expect(result.stdout.contains("WHARF_ORT_LIB"))
    }

    @Test func inspectShowsEverySignature() throws {
        let result = try Self.wharf(["inspect", Fixtures.savedModel("multi_signature")])
        #expect(result.status == 0, "\(result.stderr)")
        for key in ["serving_default", "add", "argmax"] {
            #expect(result.stdout.contains("signature_def['\(key)']"))
        }
        #expect(result.stdout.contains("index  int64    [-1]"))
        #expect(!result.stderr.contains("oneDNN custom operations"), "TensorFlow's start-up banner is filtered")
    }

    @Test func inspectONNXAsJSON() throws {
        let result = try Self.wharf(["inspect", "--json", Fixtures.onnxModel("two_io")])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let signatures = object?["signatures"] as? [String: Any]
        let serving = signatures?["serving_default"] as? [String: Any]
        let inputs = serving?["inputs"] as? [String: Any]
        let ids = inputs?["ids"] as? [String: Any]
        #expect(object?["format"] as? String == "onnx")
        #expect(ids?["dtype"] as? String == "int64")
        #expect(ids?["shape"] as? [Int] == [-1, 3])
    }

    @Test func inspectOfNothingIsAClearError() throws {
        let result = try Self.wharf(["inspect", "/nonexistent/model"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("no model at /nonexistent/model"))
    }

    @Test func offlineBatchInferenceOverJSONLines() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wharf-offline-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let lines = (0..<50).map { row in "[" + (0..<3).map { String(Double(row) + Double($0) / 10) }.joined(separator: ",") + "]" }
        let input = directory.appendingPathComponent("rows.jsonl")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: input)
        let output = directory.appendingPathComponent("out.jsonl")
        let result = try Self.wharf([
            "predict", Fixtures.savedModel("multi_signature"), "--input", input.path, "--batch-size", "8", "--instances", "2",
            "--output-file", output.path,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("50 rows in 7 batches on 2 instances"))
        let answers = try String(contentsOf: output, encoding: .utf8).split(separator: "\n")
        #expect(answers.count == 50)
        #expect(answers[0] == #"{"y":[0.0,0.2,0.4]}"#)
        #expect(answers[49] == #"{"y":[98.0,98.2,98.4]}"#)
        try Data("[1, 2, 3]\n[1, 2\n".utf8).write(to: input)
        let bad = try Self.wharf(["predict", Fixtures.savedModel("multi_signature"), "--input", input.path])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("line 2"))
    }

    @Test func convertToONNXWithParity() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wharf-convert-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("mlp.onnx").path
        let result = try Self.wharf(["convert", Fixtures.savedModel("mlp"), "--to", "onnx", "--output", output, "--parity"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: output))
        #expect(result.stdout.contains("converter: tf2onnx 1.17.0 (opset 17)"), "\(result.stdout)")
        #expect(result.stdout.contains("probabilities"))
        #expect(result.stdout.contains("thresholds: max abs error ≤ 0.0001"))
        #expect(result.stdout.hasSuffix("PASSED\n"))
        #expect(result.stderr.contains("converting with tf2onnx 1.17.0 (opset 17)"), "progress on stderr")
        #expect(!result.stderr.contains("Traceback"))

        let int8 = directory.appendingPathComponent("mlp.tflite").path
        let again = try Self.wharf(["convert", Fixtures.savedModel("mlp"), "--to", "tflite", "--quantize", "int8", "--output", int8])
        #expect(again.status != 0)
        #expect(again.stderr.contains("int8 quantization needs --calibration-data"), "\(again.stderr)")
    }
}
