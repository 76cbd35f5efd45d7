import Foundation
import Testing
import WharfRegistry
import WharfTesting

/// The registry's behaviour, the same on SQLite and PostgreSQL.
@Suite(.enabled(if: Fixtures.available, "run scripts/bootstrap to build the fixtures"))
struct RegistryTests {
    @Test(arguments: BackendKind.available)
    func pushRecordsAnImmutableNumberedVersion(_ kind: BackendKind) async throws {
        let test = try await TestRegistry.make(kind)
        let source = try ModelDirectories.mlp()
        defer { try? FileManager.default.removeItem(atPath: source) }
        let first = try await test.registry.push(.init(
            model: "mlp", path: source, author: "ana", description: "baseline", tags: ["fp32"], metrics: ["accuracy": 0.97]))
        #expect(first.version == 1)
        #expect(first.status == .ready)
        #expect(first.contentHash == (try TreeHash.of(directory: source)).hash)
        #expect(first.formats == ["savedmodel"])
        #expect(first.author == "ana")
        #expect(first.tags == ["fp32"])
        #expect(first.metrics == ["accuracy": 0.97])
        #expect(first.lineage.sourcePath == source)
        let signature = try #require(first.signatures.first { $0.key == "serving_default" })
        #expect(signature.inputs.map(\.name) == ["pixels"])
        #expect(signature.inputs.first?.shape == [-1, 784])

        let onnx = try ModelDirectories.mlp(onnx: true)
        defer { try? FileManager.default.removeItem(atPath: onnx) }
        let second = try await test.registry.push(.init(model: "mlp", path: onnx, author: "ana", lineage: Lineage(parentVersion: 1)))
        #expect(second.version == 2)
        #expect(second.formats == ["onnx"])
        #expect(second.lineage.parentVersion == 1)

        // The stored artifact is a verified copy: changing the source afterwards changes nothing.
        try Data("changed".utf8).write(to: URL(fileURLWithPath: source + "/NOTES.txt"))
        let path = try await test.registry.materialize(model: "mlp", version: 1)
        #expect(path != source)
        #expect(try TreeHash.of(directory: path).hash == first.contentHash)
        #expect(try await test.registry.store.versions(of: "mlp").map(\.version) == [1, 2])
        let events = try await test.registry.store.events(model: "mlp")
        #expect(events.map(\.action) == [.versionRegistered, .versionRegistered])
        await test.close()
    }

    @Test(arguments: BackendKind.available)
    func identicalArtifactsAreStoredOnce(_ kind: BackendKind) async throws {
        let test = try await TestRegistry.make(kind, inspect: false)
        let source = try ModelDirectories.mlp(onnx: true)
        defer { try? FileManager.default.removeItem(atPath: source) }
        let one = try await test.registry.push(.init(model: "a", path: source))
        let two = try await test.registry.push(.init(model: "b", path: source))
        #expect(one.contentHash == two.contentHash)
        #expect(try await test.registry.artifacts.list() == [one.contentHash!])
        // Deleting one version keeps the artifact the other still refers to.
        _ = try await test.registry.deleteVersion(model: "a", version: 1)
        let report = try await test.registry.collectGarbage()
        #expect(report.removedArtifacts.isEmpty)
        #expect(try await test.registry.materialize(model: "b", version: 1).hasSuffix(two.contentHash!))
        await test.close()
    }

    @Test(arguments: BackendKind.available)
    func aliasesMoveAtomicallyAndKeepTheirHistory(_ kind: BackendKind) async throws {
        let test = try await TestRegistry.make(kind, inspect: false)
        for marker in ["1", "2", "3"] {
            let source = try ModelDirectories.mlp(onnx: true, marker: marker)
            _ = try await test.registry.push(.init(model: "mlp", path: source))
            try? FileManager.default.removeItem(atPath: source)
        }
        _ = try await test.registry.setAlias(model: "mlp", alias: "production", version: 1, actor: "ana", reason: "launch")
        _ = try await test.registry.setAlias(model: "mlp", alias: "production", version: 2, actor: "bo", reason: "better accuracy")
        _ = try await test.registry.setAlias(model: "mlp", alias: "staging", version: 3, actor: "ci", reason: "")
        _ = try await test.registry.setAlias(model: "mlp", alias: "production", version: 3, actor: "cy", reason: "promote")
        let aliases = try await test.registry.store.aliases(of: "mlp")
        #expect(aliases.map { "\($0.alias)=\($0.version)" } == ["production=3", "staging=3"])
        #expect(aliases.first?.updatedBy == "cy")

        let history = try await test.registry.store.events(model: "mlp", alias: "production")
        #expect(history.map(\.fromVersion) == [nil, 1, 2])
        #expect(history.map(\.toVersion) == [1, 2, 3])
        #expect(history.map(\.actor) == ["ana", "bo", "cy"])
        #expect(history.map(\.reason) == ["launch", "better accuracy", "promote"])
        #expect(zip(history, history.dropFirst()).allSatisfy { $0.at <= $1.at && $0.id < $1.id })

        // Rollbacks stack: 3 → 2 → 1, then there is nothing earlier.
        let back = try await test.registry.rollback(model: "mlp", actor: "ops", reason: "p99 regression")
        #expect(back.action == .rollback)
        #expect((back.fromVersion, back.toVersion) == (3, 2))
        #expect(back.reason == "p99 regression")
        let again = try await test.registry.rollback(model: "mlp")
        #expect((again.fromVersion, again.toVersion) == (2, 1))
        await #expect(throws: RegistryError.self) { try await test.registry.rollback(model: "mlp") }
        do {
            _ = try await test.registry.rollback(model: "mlp")
        } catch let error as RegistryError {
            #expect(error.kind == .noRollbackTarget)
            #expect(error.message.contains("no earlier version to roll back to"))
        }
        // An explicit target works whatever the history says.
        let explicit = try await test.registry.rollback(model: "mlp", to: 3)
        #expect((explicit.fromVersion, explicit.toVersion) == (1, 3))
        #expect(try await test.registry.store.aliases(of: "mlp").first { $0.alias == "production" }?.version == 3)
        await test.close()
    }

    @Test(arguments: BackendKind.available)
    func rollbackWithoutHistorySaysSo(_ kind: BackendKind) async throws {
        let test = try await TestRegistry.make(kind, inspect: false)
        let source = try ModelDirectories.mlp(onnx: true)
        defer { try? FileManager.default.removeItem(atPath: source) }
        _ = try await test.registry.push(.init(model: "mlp", path: source))
        try await expectError(.aliasNotFound, "has no alias 'production'") { _ = try await test.registry.rollback(model: "mlp") }
        _ = try await test.registry.setAlias(model: "mlp", alias: "production", version: 1)
        try await expectError(.noRollbackTarget, "points at version 1 and has no earlier version") {
            _ = try await test.registry.rollback(model: "mlp")
        }
        await test.close()
    }

    @Test(arguments: BackendKind.available)
    func deletionAndRetentionNeverTouchAnAliasedVersion(_ kind: BackendKind) async throws {
        let test = try await TestRegistry.make(kind, inspect: false)
        var hashes: [String] = []
        for marker in ["1", "2", "3", "4"] {
            let source = try ModelDirectories.mlp(onnx: true, marker: marker)
            hashes.append(try await test.registry.push(.init(model: "mlp", path: source)).contentHash!)
            try? FileManager.default.removeItem(atPath: source)
        }
        _ = try await test.registry.setAlias(model: "mlp", alias: "production", version: 1)
        try await expectError(.versionInUse, "alias 'production' points at it") {
            _ = try await test.registry.deleteVersion(model: "mlp", version: 1)
        }
        _ = try await test.registry.store.setRetention(model: "mlp", policy: RetentionPolicy(keepLast: 1), actor: "ops")
        let preview = try await test.registry.collectGarbage(dryRun: true)
        #expect(preview.deletedVersions == ["mlp:2", "mlp:3"])
        #expect(try await test.registry.store.versions(of: "mlp").count == 4)
        let report = try await test.registry.collectGarbage()
        #expect(report.deletedVersions == ["mlp:2", "mlp:3"])
        #expect(Set(report.removedArtifacts) == Set([hashes[1], hashes[2]]))
        #expect(try await test.registry.store.versions(of: "mlp").map(\.version) == [1, 4])
        #expect(try await test.registry.artifacts.list().sorted() == [hashes[0], hashes[3]].sorted())
        // Version numbers are never reused.
        let source = try ModelDirectories.mlp(onnx: true, marker: "5")
        defer { try? FileManager.default.removeItem(atPath: source) }
        #expect(try await test.registry.push(.init(model: "mlp", path: source)).version == 5)
        let actions = try await test.registry.store.events(model: "mlp").map(\.action)
        #expect(actions.filter { $0 == .versionDeleted }.count == 2)
        await test.close()
    }

    @Test(arguments: BackendKind.available)
    func aTamperedArtifactIsRefused(_ kind: BackendKind) async throws {
        let test = try await TestRegistry.make(kind, inspect: false)
        let source = try ModelDirectories.mlp()
        defer { try? FileManager.default.removeItem(atPath: source) }
        let record = try await test.registry.push(.init(model: "mlp", path: source))
        let path = try await test.registry.materialize(model: "mlp", version: 1)
        let file = URL(fileURLWithPath: path + "/saved_model.pb")
        var bytes = try Data(contentsOf: file)
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: file)
        do {
            _ = try await test.registry.materialize(model: "mlp", version: 1)
            Issue.record("a tampered artifact was accepted")
        } catch let error as RegistryError {
            #expect(error.kind == .hashMismatch)
            #expect(error.message.contains("expected sha256 \(record.contentHash!)"))
            #expect(error.message.contains("changed: saved_model.pb"))
        }
        await test.close()
    }

    @Test(arguments: BackendKind.available)
    func badInputIsRefusedAndWritesNothing(_ kind: BackendKind) async throws {
        let test = try await TestRegistry.make(kind)
        let registry = test.registry
        let source = try ModelDirectories.mlp(onnx: true)
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("wharf-empty-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: empty + "/variables", withIntermediateDirectories: true)
        let corrupt = FileManager.default.temporaryDirectory.appendingPathComponent("wharf-corrupt-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: corrupt, withIntermediateDirectories: true)
        try Data(repeating: 0xAB, count: 256).write(to: URL(fileURLWithPath: corrupt + "/model.onnx"))
        defer { for path in [source, empty, corrupt] { try? FileManager.default.removeItem(atPath: path) } }

        for name in ["", "a/b", "..", "a..b", ".hidden", "-x", "white space", "é", String(repeating: "m", count: 129)] {
            try await expectError(.invalidName, "model name") { _ = try await registry.push(.init(model: name, path: source)) }
        }
        try await expectError(.notAModel, "holds no model") { _ = try await registry.push(.init(model: "m", path: empty)) }
        try await expectError(.notAModel, "does not exist") { _ = try await registry.push(.init(model: "m", path: empty + "/nope")) }
        try await expectError(.notAModel, "does not load") { _ = try await registry.push(.init(model: "m", path: corrupt)) }
        try await expectError(.invalidName, "tag") { _ = try await registry.push(.init(model: "m", path: source, tags: ["a/b"])) }
        #expect(try await registry.store.models().isEmpty)
        #expect(try await registry.artifacts.list().isEmpty)

        _ = try await registry.push(.init(model: "m", path: source))
        try await expectError(.modelNotFound, "no model 'nope'") { _ = try await registry.setAlias(model: "nope", alias: "production", version: 1) }
        try await expectError(.versionNotFound, "has no READY version 7 (READY versions: 1)") {
            _ = try await registry.setAlias(model: "m", alias: "production", version: 7)
        }
        try await expectError(.invalidName, "alias") { _ = try await registry.setAlias(model: "m", alias: "../prod", version: 1) }
        try await expectError(.aliasNotFound, "has no alias 'staging'") { _ = try await registry.removeAlias(model: "m", alias: "staging") }
        try await expectError(.versionNotFound, "has no version 9") { _ = try await registry.deleteVersion(model: "m", version: 9) }
        #expect(try await registry.store.aliases(of: "m").isEmpty)
        #expect(try await registry.store.events(model: "m").map(\.action) == [.versionRegistered])
        await test.close()
    }

    @Test(arguments: BackendKind.available)
    func aTFServingBasePathImportsEveryVersion(_ kind: BackendKind) async throws {
        let test = try await TestRegistry.make(kind, inspect: false)
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("wharf-base-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: base) }
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Fixtures.savedModel("mlp"), toPath: base + "/3")
        try FileManager.default.createDirectory(atPath: base + "/10", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Fixtures.onnxModel("mlp"), toPath: base + "/10/model.onnx")
        #expect(Registry.isBasePath(base))
        let records = try await test.registry.importBasePath(.init(model: "mlp", path: base))
        #expect(records.map(\.version) == [1, 2])
        #expect(records.map(\.lineage.sourceVersion) == [3, 10])
        #expect(records.map(\.formats) == [["savedmodel"], ["onnx"]])
        await test.close()
    }

    @Test func namesAreCheckedBeforeTheyReachAPath() throws {
        for good in ["mlp", "resnet-50", "bert_base.v2", "A1", String(repeating: "m", count: 128)] {
            #expect(throws: Never.self) { try RegistryNames.validate(good, "model name") }
        }
        for bad in ["", "/", "a/b", "a\\b", "..", "x..y", ".", "_x", "a b", "a\u{0}", String(repeating: "m", count: 129)] {
            #expect(throws: RegistryError.self) { try RegistryNames.validate(bad, "model name") }
        }
    }

    @Test func treeHashCountsNamesSizesAndContentsOnly() throws {
        let one = try ModelDirectories.mlp(onnx: true)
        let two = try ModelDirectories.mlp(onnx: true)
        defer { for path in [one, two] { try? FileManager.default.removeItem(atPath: path) } }
        #expect(try TreeHash.of(directory: one) == TreeHash.of(directory: two))
        try FileManager.default.moveItem(atPath: two + "/model.onnx", toPath: two + "/renamed.onnx")
        #expect(try TreeHash.of(directory: one).hash != TreeHash.of(directory: two).hash)
        try FileManager.default.createSymbolicLink(atPath: one + "/link", withDestinationPath: "/etc/passwd")
        #expect(throws: RegistryError.self) { try TreeHash.of(directory: one) }
    }
}

/// Runs `body` and checks it throws a registry error of `kind` whose message contains `text`.
func expectError(
    _ kind: RegistryError.Kind, _ text: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
) async throws {
    do {
        try await body()
        Issue.record("expected a \(kind) error saying '\(text)', nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as RegistryError {
        #expect(error.kind == kind, "\(error.message)", sourceLocation: sourceLocation)
        #expect(error.message.contains(text), "\(error.message)", sourceLocation: sourceLocation)
    }
}
