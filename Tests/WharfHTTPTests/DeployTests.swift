import Foundation
import Synchronization
import Testing
import WharfPipeline
import WharfRegistry
import WharfServing
import WharfTesting

/// `wharf deploy` against a live server with clients sending traffic: every stage end to end, and
/// each way a deployment can fail stopping at the right stage with production untouched.
@Suite(.serialized, .enabled(if: Fixtures.available, "run scripts/bootstrap to build the fixtures"))
struct DeployTests {
    static let checked = Fixtures.root.appendingPathComponent("checked")

    /// A live server over a fresh registry where model `checked` version 1 (sound, fast) is production.
    final class Setup: Sendable {
        let directory: String
        let registry: Registry
        let server: TestServer
        let scratch: ScratchRepository

        init(directory: String, registry: Registry, server: TestServer, scratch: ScratchRepository) {
            self.directory = directory
            self.registry = registry
            self.server = server
            self.scratch = scratch
        }

        static func start() async throws -> Setup {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wharf-deploy-\(UUID().uuidString)").path
            let registry = try await RegistryLocation(dataDirectory: directory, environment: [:]).open(inspector: ArtifactInspector(loadModel: false))
            _ = try await registry.push(.init(model: "checked", path: checked.appendingPathComponent("plain_model").path, author: "test"))
            _ = try await registry.setAlias(model: "checked", alias: "production", version: 1, actor: "test")
            let scratch = try ScratchRepository()
            let server = try await TestServer.start(repository: scratch.root, registry: registry, apiToken: "t")
            return Setup(directory: directory, registry: registry, server: server, scratch: scratch)
        }

        func runner(_ lines: Lines = Lines()) -> PipelineRunner {
            PipelineRunner(
                registry: registry, targets: [TargetClient(baseURL: "http://127.0.0.1:\(server.port)", token: "t")],
                converter: PythonConverter(), workRoot: directory + "/runs", actor: "ci") { lines.add($0) }
        }

        func production() async throws -> Int64? {
            try await registry.store.aliases(of: "checked").first { $0.alias == "production" }?.version
        }

        func stop() async {
            await server.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// Clients sending V2 requests (a share of them with NaN) until stopped; what they got.
    final class Clients: Sendable {
        let answers = Shared<[(status: Int, version: String?)]>([])
        let running = Shared(true)
        private let tasks: Shared<[Task<Void, Never>]> = Shared([])

        init(_ server: TestServer, count: Int = 2, poisonEvery: Int = 0) {
            var started: [Task<Void, Never>] = []
            for client in 0..<count {
                let answers = self.answers
                let running = self.running
                started.append(Task {
                    var index = client
                    while running.value.withLock({ $0 }) {
                        index += 1
                        let poison = poisonEvery > 0 && index % poisonEvery == 0
                        let data = poison ? "NaN, 1, 2, 3" : "0.5, 1, 2, 3"
                        let body = #"{"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32", "data": [\#(data)]}]}"#
                        let result = try? await server.post("/v2/models/checked/infer", json: body)
                        let version = (result?.json as? [String: Any])?["model_version"] as? String
                        answers.value.withLock { $0.append((result?.status ?? -1, version)) }
                        try? await Task.sleep(for: .milliseconds(10))
                    }
                })
            }
            tasks.value.withLock { $0 = started }
        }

        func stop() async -> [(status: Int, version: String?)] {
            running.value.withLock { $0 = false }
            for task in tasks.value.withLock({ $0 }) { await task.value }
            return answers.value.withLock { $0 }
        }
    }

    static func definition(_ edit: (inout PipelineDefinition) -> Void = { _ in }) -> PipelineDefinition {
        var definition = PipelineDefinition()
        definition.convertTargets = []
        definition.benchmarkSeconds = 1
        definition.benchmarkConcurrency = 2
        definition.maxRegression = 10
        definition.canarySeconds = 3
        definition.canaryWeight = 0.3
        definition.stagingTimeoutSeconds = 60
        edit(&definition)
        return definition
    }

    @Test func aDeploymentGoesThroughEveryStageWhileClientsSendTraffic() async throws {
        let setup = try await Setup.start()
        let clients = Clients(setup.server)
        let log = Lines()
        let definition = Self.definition {
            $0.convertTargets = ["onnx"]
            $0.canaryMinRequests = 3
        }
        let run = try await setup.runner(log).run(
            source: Self.checked.appendingPathComponent("plain_model").path, model: "checked", definition: definition)
        try await Task.sleep(for: .milliseconds(800))
        let answers = await clients.stop()
        #expect(run.status == .succeeded, "\(log.lines.joined(separator: "\n"))")
        #expect(run.stages.map(\.status) == [.passed, .passed, .passed, .passed, .passed, .passed, .passed, .passed], "\(run.stages.map { "\($0.name): \($0.detail)" })")
        #expect(run.version == 2)
        #expect(try await setup.production() == 2)
        // Zero failed client requests, and the new version answered once promoted.
        #expect(!answers.isEmpty)
        #expect(answers.allSatisfy { $0.status == 200 }, "\(answers.filter { $0.status != 200 }.prefix(5))")
        #expect(answers.suffix(10).contains { $0.version == "2" })
        // What was served and why; the numbers behind each decision are kept.
        #expect(run.decision.contains("fastest that passed parity"))
        #expect(run.stage("parity")?.numbers.keys.contains { $0.hasPrefix("onnx.") } == true)
        #expect(run.stage("benchmark")?.numbers["production.p95_ms"] != nil)
        #expect((run.stage("canary")?.numbers["canary.requests"] ?? 0) >= 3)
        let version = try #require(try await setup.registry.store.version(model: "checked", version: 2))
        #expect(version.formats.contains("onnx"))
        #expect(version.lineage.parentVersion == 1)
        #expect(version.lineage.converterParameters["run"] == run.id)
        #expect(version.metrics.keys.contains("benchmark.p95_ms"))
        let history = try await setup.registry.store.events(model: "checked", alias: "production")
        #expect(history.last?.actor == "ci")
        #expect(try await setup.registry.store.aliases(of: "checked").map(\.alias).contains("canary") == false)
        #expect(try await setup.registry.store.trafficSplits(model: "checked").isEmpty)
        // The run is recorded; the server lists it.
        let stored = try #require(try await setup.registry.store.run(id: run.id))
        #expect(stored.status == "succeeded")
        let listed = try #require(try await setup.server.get("/pipeline/runs").json as? [[String: Any]])
        #expect(listed.first?["id"] as? String == run.id)

        // Repeating the same deployment changes nothing and says so.
        let again = try await setup.runner().run(source: Self.checked.appendingPathComponent("plain_model").path, model: "checked", definition: definition)
        #expect(again.status == .succeeded)
        #expect(again.version == 2)
        #expect(again.stage("register")?.detail.contains("already holds") == true, "\(again.stage("register")?.detail ?? "")")
        #expect(again.stage("canary")?.status == .skipped)
        #expect(try await setup.registry.store.versions(of: "checked").count == 2)
        await setup.stop()
    }

    @Test func aModelThatAnswersNaNStopsAtValidate() async throws {
        let setup = try await Setup.start()
        let run = try await setup.runner().run(source: Self.checked.appendingPathComponent("nan_model").path, model: "checked", definition: Self.definition())
        #expect(run.status == .failed)
        #expect(run.stage("validate")?.status == .failed)
        #expect(run.stage("validate")?.detail.contains("output 'y' holds nan") == true, "\(run.stage("validate")?.detail ?? "")")
        #expect(run.stages.dropFirst().allSatisfy { $0.status == .pending })
        #expect(try await setup.registry.store.versions(of: "checked").count == 1)
        #expect(try await setup.production() == 1)
        await setup.stop()
    }

    @Test func aSlowModelStopsAtTheBenchmarkGate() async throws {
        let setup = try await Setup.start()
        let definition = Self.definition { $0.maxRegression = 0.10 }
        let run = try await setup.runner().run(source: Self.checked.appendingPathComponent("slow_model").path, model: "checked", definition: definition)
        #expect(run.status == .failed)
        #expect(run.stage("benchmark")?.status == .failed)
        #expect(run.stage("benchmark")?.detail.contains("vs production") == true, "\(run.stage("benchmark")?.detail ?? "")")
        #expect((run.stage("benchmark")?.numbers["p95_regression"] ?? 0) > 0.10)
        #expect(try await setup.registry.store.versions(of: "checked").count == 1)
        #expect(try await setup.production() == 1)
        await setup.stop()
    }

    @Test func aCanaryThatFailsInProductionTrafficIsRolledBack() async throws {
        let setup = try await Setup.start()
        // Every other request holds a NaN: the new version fails on those, version 1 does not.
        let clients = Clients(setup.server, count: 2, poisonEvery: 2)
        let definition = Self.definition {
            $0.canarySeconds = 8
            $0.canaryWeight = 0.2
            $0.canaryMinRequests = 5
        }
        let run = try await setup.runner().run(source: Self.checked.appendingPathComponent("saved_model").path, model: "checked", definition: definition)
        try await Task.sleep(for: .milliseconds(800))
        let answers = await clients.stop()
        #expect(run.status == .rolledBack)
        #expect(run.stage("canary")?.status == .failed)
        #expect(run.stage("canary")?.detail.contains("canary rolled back: canary error rate") == true, "\(run.stage("canary")?.detail ?? "")")
        #expect(run.stage("promote")?.status == .pending)
        #expect(try await setup.production() == 1)
        #expect(try await setup.registry.store.aliases(of: "checked").contains { $0.alias == "canary" } == false)
        #expect(try await setup.registry.store.trafficSplits(model: "checked").isEmpty)
        // The clients' error rate is bounded by the canary's share.
        let failed = answers.filter { $0.status != 200 }.count
        #expect(failed > 0)
        #expect(Double(failed) / Double(answers.count) <= definition.canaryWeight, "\(failed) of \(answers.count) failed")
        await setup.stop()
    }

    @Test func aConversionThatDisagreesStopsAtParity() async throws {
        let setup = try await Setup.start()
        let definition = Self.definition {
            $0.convertTargets = ["tflite-int8"]
            $0.calibrationData = Fixtures.root.appendingPathComponent("sources/calibration.npy").path
            $0.parityMaxAbsError = 1e-6
        }
        let run = try await setup.runner().run(source: Fixtures.savedModel("mlp"), model: "mlp", definition: definition)
        #expect(run.status == .failed)
        #expect(run.stage("convert")?.status == .passed)
        #expect(run.stage("parity")?.status == .failed)
        #expect(run.stage("parity")?.detail.contains("outputs disagree beyond tolerance: tflite-int8") == true, "\(run.stage("parity")?.detail ?? "")")
        #expect((run.stage("parity")?.numbers["tflite-int8.probabilities.max_abs_error"] ?? 0) > 1e-6)
        #expect(try await setup.registry.store.model("mlp") == nil)
        #expect(try await setup.production() == 1)
        await setup.stop()
    }

    @Test func aDeployKilledDuringItsCanaryResumesWhereItStopped() async throws {
        let setup = try await Setup.start()
        let clients = Clients(setup.server)
        let pipeline = setup.directory + "/pipeline.yaml"
        try """
            convert: {targets: []}
            benchmark: {duration_seconds: 1, concurrency: 2, max_regression: 10}
            canary: {weight: 0.3, duration_seconds: 5}
            """.write(toFile: pipeline, atomically: true, encoding: .utf8)
        let flags = ["--target", "http://127.0.0.1:\(setup.server.port)", "--token", "t", "--data-dir", setup.directory]
        let process = WharfProcess.start(
            ["deploy", Self.checked.appendingPathComponent("plain_model").path, "--model", "checked", "--pipeline", pipeline] + flags)
        // Wait until the canary is under way, then kill the deploy outright.
        let run = try await waitFor("the canary stage", seconds: 60) { () -> PipelineRun? in
            guard let stored = try await setup.registry.store.runs(model: "checked").first,
                let run = try? JSONCoding.decode(PipelineRun.self, stored.payload), run.stage("canary")?.status == .running,
                try await setup.registry.store.trafficSplits(model: "checked").first?.weight == 0.3
            else { return nil }
            return run
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(try await setup.registry.store.aliases(of: "checked").contains { $0.alias == "canary" })
        #expect(try await setup.production() == 1)

        let resumed = WharfProcess.start(["deploy", "--resume", run.id] + flags)
        resumed.waitUntilExit()
        #expect(resumed.terminationStatus == 0)
        let answers = await clients.stop()
        let final = try JSONCoding.decode(PipelineRun.self, try #require(try await setup.registry.store.run(id: run.id)).payload)
        #expect(final.status == .succeeded)
        #expect(final.stages.map(\.status) == [.passed, .skipped, .skipped, .passed, .passed, .passed, .passed, .passed])
        // The stages before the canary were not run again.
        #expect(final.stage("register")?.startedAt == run.stage("register")?.startedAt)
        #expect(try await setup.production() == 2)
        #expect(try await setup.registry.store.versions(of: "checked").count == 2)
        #expect(answers.allSatisfy { $0.status == 200 })
        await setup.stop()
    }

    @Test func deploysOfOneModelRunOneAtATime() async throws {
        let setup = try await Setup.start()
        // A wrong token is refused before anything runs.
        let wrongToken = PipelineRunner(
            registry: setup.registry, targets: [TargetClient(baseURL: "http://127.0.0.1:\(setup.server.port)", token: "guess")],
            converter: PythonConverter(), workRoot: setup.directory + "/runs")
        do {
            _ = try await wrongToken.run(source: Self.checked.appendingPathComponent("plain_model").path, model: "checked", definition: Self.definition())
            Issue.record("a deploy with a wrong token started")
        } catch let error as PipelineError {
            #expect(error.message.contains("refused the management API token"))
        }
        #expect(try await setup.registry.store.runs(model: "checked").isEmpty)
        // A run of this (live) process holds the model.
        let holder = RegistryStore.StoredRun(
            id: "holder", model: "checked", status: "running", createdAt: Date(), updatedAt: Date(), owner: .current, payload: "{}")
        #expect(try await setup.registry.store.startRun(holder, activeStatuses: ["running"], isAlive: { _ in true }) == nil)
        do {
            _ = try await setup.runner().run(source: Self.checked.appendingPathComponent("plain_model").path, model: "checked", definition: Self.definition())
            Issue.record("a second deployment of the same model started")
        } catch let error as PipelineError {
            #expect(error.message.contains("has a deployment under way: run holder"))
        }
        await setup.stop()
    }
}

/// Progress lines a run reported.
final class Lines: Sendable {
    private let storage = Shared<[String]>([])
    func add(_ line: String) { storage.value.withLock { $0.append(line) } }
    var lines: [String] { storage.value.withLock { $0 } }
}

/// The built `wharf` binary as a child process (output discarded).
enum WharfProcess {
    static func start(_ arguments: [String]) -> Process {
        let process = Process()
        process.executableURL = Fixtures.repositoryRoot.appendingPathComponent(".build/debug/wharf")
        process.arguments = arguments
        process.currentDirectoryURL = Fixtures.repositoryRoot
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try? process.run()
        return process
    }
}
