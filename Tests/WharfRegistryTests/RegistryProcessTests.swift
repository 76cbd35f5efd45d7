import Foundation
import Testing
import WharfRegistry
import WharfTesting

/// Several `wharf` processes on one registry, and processes killed half-way.
@Suite(.enabled(if: Fixtures.available, "run scripts/bootstrap to build the fixtures"))
struct RegistryProcessTests {
    @Test(arguments: BackendKind.available)
    func concurrentPushesFromTwoProcessesGetDistinctCompleteVersions(_ kind: BackendKind) async throws {
        let test = try await TestRegistry.make(kind)
        var sources: [String] = []
        defer { for source in sources { try? FileManager.default.removeItem(atPath: source) } }
        for round in 0..<3 {
            let pair = try (0..<2).map { _ in try ModelDirectories.mlp(onnx: true, marker: UUID().uuidString) }
            sources += pair
            let processes = pair.map { WharfCLI.process(["versions", "push", "mlp", $0, "--json"] + test.flags) }
            let pipes = processes.map { process in
                let pipe = Pipe()
                process.standardOutput = pipe
                process.standardError = FileHandle.nullDevice
                return pipe
            }
            for process in processes { try process.run() }
            let outputs = pipes.map { $0.fileHandleForReading.readDataToEndOfFile() }
            for process in processes {
                process.waitUntilExit()
                #expect(process.terminationStatus == 0, "push failed in round \(round)")
            }
            for output in outputs {
                let records = try JSONCoding.decode([VersionRecord].self, String(decoding: output, as: UTF8.self))
                #expect(records.count == 1)
            }
        }
        let versions = try await test.registry.store.versions(of: "mlp")
        #expect(versions.map(\.version) == Array(1...6))
        #expect(versions.allSatisfy { $0.status == .ready })
        #expect(Set(versions.compactMap(\.contentHash)).count == 6)
        for version in versions { _ = try await test.registry.materialize(model: "mlp", version: version.version) }
        await test.close()
    }

    @Test(arguments: BackendKind.available)
    func aPushKilledAtAnyPointNeverLeavesAnIncompleteVersionVisible(_ kind: BackendKind) async throws {
        let test = try await TestRegistry.make(kind, inspect: false)
        // A model large enough that a push takes a while: copying and hashing 48 MB.
        let source = try ModelDirectories.mlp(onnx: true)
        defer { try? FileManager.default.removeItem(atPath: source) }
        try FileManager.default.createDirectory(atPath: source + "/assets", withIntermediateDirectories: true)
        let random = try #require(FileHandle(forReadingAtPath: "/dev/urandom"))
        try random.readData(ofLength: 48 << 20).write(to: URL(fileURLWithPath: source + "/assets/blob.bin"))
        try random.close()
        var generator = SystemRandomNumberGenerator()

        // How long one whole push takes here (process start included); kills land inside it.
        let timing = WharfCLI.process(["versions", "push", "mlp", source] + test.flags)
        timing.standardOutput = FileHandle.nullDevice
        timing.standardError = FileHandle.nullDevice
        let started = ContinuousClock.now
        try timing.run()
        timing.waitUntilExit()
        let whole = started.duration(to: .now)
        let wholeMilliseconds = Int(whole.components.seconds * 1000 + whole.components.attoseconds / 1_000_000_000_000_000)

        var killed = 0
        for round in 0..<10 {
            try Data("round \(round)".utf8).write(to: URL(fileURLWithPath: source + "/NOTES.txt"))
            let process = WharfCLI.process(["versions", "push", "mlp", source] + test.flags)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            try await Task.sleep(for: .milliseconds(Int.random(in: 5...max(10, wholeMilliseconds * 9 / 10), using: &generator)))
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                killed += 1
            }
            process.waitUntilExit()

            // The registry opens cleanly, and every READY version is complete and verifies.
            let registry = try await test.location.open(inspector: ArtifactInspector(loadModel: false))
            for version in try await registry.store.versions(of: "mlp") where version.status == .ready {
                _ = try await registry.materialize(model: "mlp", version: version.version)
            }
            let listed = try WharfCLI.run(["versions", "list", "mlp"] + test.flags)
            #expect(listed.status == 0 || listed.stderr.contains("no model 'mlp'"), "\(listed.stderr)")
            #expect(!listed.stdout.contains("PENDING"))
            await registry.close()
        }
        #expect(killed > 0, "no push was killed: they finish faster than the test kills them")

        // Garbage collection marks the abandoned pushes FAILED and clears their leftovers.
        let gc = try WharfCLI.run(["gc", "--json"] + test.flags)
        #expect(gc.status == 0, "\(gc.stderr)")
        let versions = try await test.registry.store.versions(of: "mlp")
        #expect(!versions.contains { $0.status == .pending })
        let ready = versions.filter { $0.status == .ready }
        #expect(try await Set(test.registry.artifacts.list()) == Set(ready.compactMap(\.contentHash)))
        let temporary = test.location.artifacts + "/tmp"
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? []).isEmpty)
        // And a push after all that works and gets the next number.
        let last = try await test.registry.push(.init(model: "mlp", path: source))
        #expect(last.version == (versions.map(\.version).max() ?? 0) + 1)
        #expect(last.status == .ready)
        await test.close()
    }

    @Test func theCLIPrintsTablesAndClearErrors() async throws {
        let test = try await TestRegistry.make(.sqlite)
        let source = try ModelDirectories.mlp(onnx: true)
        let other = try ModelDirectories.mlp(onnx: true, marker: "2")
        defer { for path in [source, other] { try? FileManager.default.removeItem(atPath: path) } }
        let flags = test.flags
        let push = try WharfCLI.run(["versions", "push", "mlp", source, "--description", "first", "--tag", "fp32", "--author", "ana"] + flags)
        #expect(push.status == 0, "\(push.stderr)")
        #expect(push.stdout.contains("registered mlp version 1: sha256 "))
        #expect(try WharfCLI.run(["versions", "push", "mlp", other, "--alias", "production"] + flags).stdout.contains("production → 2"))
        let set = try WharfCLI.run(["alias", "set", "mlp", "production", "1", "--reason", "v2 is slow"] + flags)
        #expect(set.stdout.contains("mlp production: 2 → 1"), "\(set.stderr)")
        let list = try WharfCLI.run(["versions", "list", "mlp"] + flags)
        #expect(list.stdout.contains("VERSION  STATUS"))
        #expect(list.stdout.contains("READY"))
        #expect(list.stdout.contains("first"))
        let history = try WharfCLI.run(["alias", "history", "mlp"] + flags)
        #expect(history.stdout.contains("v2 is slow"))
        let rollback = try WharfCLI.run(["rollback", "mlp"] + flags)
        #expect(rollback.stdout.contains("mlp production: 1 → 2 (rolled back)"), "\(rollback.stderr)")
        let none = try WharfCLI.run(["rollback", "mlp"] + flags)
        #expect(none.status != 0)
        #expect(none.stderr.contains("no earlier version to roll back to"))
        let models = try WharfCLI.run(["models", "list", "--json"] + flags)
        #expect(try JSONCoding.decode([ModelRecord].self, models.stdout).map(\.name) == ["mlp"])
        let show = try WharfCLI.run(["versions", "show", "mlp", "1"] + flags)
        #expect(show.stdout.contains("signature    serving_default: pixels float32[-1, 784]"))

        let unknown = try WharfCLI.run(["versions", "list", "nope"] + flags)
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("no model 'nope' in the registry (models: mlp)"))
        let badName = try WharfCLI.run(["versions", "push", "../evil", source] + flags)
        #expect(badName.stderr.contains("has characters other than"))
        let notModel = try WharfCLI.run(["versions", "push", "mlp", FileManager.default.temporaryDirectory.path + "/nothing-\(UUID())"] + flags)
        #expect(notModel.stderr.contains("does not exist"))
        let badVersion = try WharfCLI.run(["alias", "set", "mlp", "production", "x"] + flags)
        #expect(badVersion.stderr.contains("a version is a positive integer, got 'x'"))
        let badRegistry = try WharfCLI.run(["models", "list", "--registry", "mysql://x"])
        #expect(badRegistry.stderr.contains("expected postgres://"))
        #expect(try await test.registry.store.versions(of: "mlp").count == 2)
        await test.close()
    }
}
