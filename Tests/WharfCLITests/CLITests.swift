import Foundation
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
}
