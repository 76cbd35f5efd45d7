import Foundation
import Testing
import WharfRegistry
import WharfTesting

/// The databases the registry tests run on: SQLite always, PostgreSQL when the test command
/// started a server (`WHARF_TEST_POSTGRES_URL`).
enum BackendKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    static var postgresServer: String? { ProcessInfo.processInfo.environment["WHARF_TEST_POSTGRES_URL"] }

    static var available: [BackendKind] { postgresServer == nil ? [.sqlite] : [.sqlite, .postgres] }

    var testDescription: String { rawValue }
}

/// A fresh registry in a scratch data directory (and a fresh PostgreSQL database), removed with
/// the object.
final class TestRegistry: Sendable {
    let kind: BackendKind
    let location: RegistryLocation
    let registry: Registry

    static func make(_ kind: BackendKind, inspect: Bool = true) async throws -> TestRegistry {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wharf-registry-\(UUID().uuidString)").path
        var database: String?
        if kind == .postgres {
            let server = try #require(BackendKind.postgresServer)
            let name = "wharf_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
            database = try await PostgresBackend.createDatabase(serverURL: server, name: String(name))
        }
        let location = RegistryLocation(dataDirectory: directory, database: database, environment: [:])
        let registry = try await location.open(inspector: ArtifactInspector(loadModel: inspect))
        return TestRegistry(kind: kind, location: location, registry: registry)
    }

    private init(kind: BackendKind, location: RegistryLocation, registry: Registry) {
        self.kind = kind
        self.location = location
        self.registry = registry
    }

    deinit { try? FileManager.default.removeItem(atPath: location.dataDirectory) }

    /// The flags that point the `wharf` CLI at this registry.
    var flags: [String] {
        ["--data-dir", location.dataDirectory] + (kind == .postgres ? ["--registry", location.database] : [])
    }

    func close() async { await registry.close() }
}

/// Scratch model directories made from the fixtures.
enum ModelDirectories {
    /// A new directory holding a copy of the MLP SavedModel (or its ONNX file), optionally with
    /// one extra file so that its content hash differs.
    static func mlp(onnx: Bool = false, marker: String? = nil) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wharf-model-\(UUID().uuidString)").path
        if onnx {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: Fixtures.onnxModel("mlp"), toPath: directory + "/model.onnx")
        } else {
            try FileManager.default.copyItem(atPath: Fixtures.savedModel("mlp"), toPath: directory)
        }
        if let marker { try Data(marker.utf8).write(to: URL(fileURLWithPath: directory + "/NOTES.txt")) }
        return directory
    }
}

/// The built `wharf` binary, run as a user would.
enum WharfCLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static var binary: String { Fixtures.repositoryRoot.appendingPathComponent(".build/debug/wharf").path }

    static func process(_ arguments: [String]) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.currentDirectoryURL = Fixtures.repositoryRoot
        return process
    }

    static func run(_ arguments: [String]) throws -> Result {
        let process = process(arguments)
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
    }
}
