import Foundation
import Testing
import WharfCore
import WharfTesting

/// The server under abuse and under change: mutated bodies, and version swaps under load.
@Suite(.enabled(if: Fixtures.available, "run scripts/bootstrap to build the fixtures"), .serialized)
struct ServerRobustnessTests {
    /// A few thousand randomly mutated request bodies: every one gets an answer (never a 5xx, never
    /// a dropped connection), and the server still serves afterwards.
    @Test func mutatedBodiesNeverTakeTheServerDown() async throws {
        let repository = try ScratchRepository()
        try repository.addVersion("two_io", 1, fixture: "two_io")
        try repository.addVersion("strings", 1, fixture: "strings", onnx: true)
        let server = try await TestServer.start(repository: repository.root)
        defer { Task { await server.stop() } }
        let seeds: [(String, String)] = [
            ("/v1/models/two_io:predict", #"{"instances": [{"features": [1.5, 2, 3, 4], "ids": [1, 2, 3]}]}"#),
            ("/v1/models/two_io:predict", #"{"signature_name": "serving_default", "inputs": {"features": [[1, 2, 3, 4]], "ids": [[7, 8, 9]]}}"#),
            ("/v1/models/strings:predict", #"{"inputs": {"text": ["a", {"b64": "aGk="}]}}"#),
            ("/v2/models/two_io/infer", #"{"inputs": [{"name": "features", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}, {"name": "ids", "shape": [1, 3], "datatype": "INT64", "data": [1, 2, 3]}]}"#),
            ("/v2/models/strings/infer", #"{"inputs": [{"name": "text", "shape": [2], "datatype": "BYTES", "data": ["x", "yz"]}], "outputs": [{"name": "echo", "parameters": {"binary_data": true}}]}"#),
        ]
        let alphabet = Array(#"{}[]",:0123456789.-eE+ntrufalsNIyb\"#.utf8)
        var generator = SystemRandomNumberGenerator()
        var statuses: [Int: Int] = [:]
        let total = 2500
        for index in 0..<total {
            let (path, seed) = seeds[index % seeds.count]
            var bytes = Array(seed.utf8)
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let position = Int.random(in: 0..<max(bytes.count, 1), using: &generator)
                switch Int.random(in: 0..<5, using: &generator) {
                case 0 where !bytes.isEmpty: bytes[position] = alphabet.randomElement(using: &generator)!
                case 1 where !bytes.isEmpty: bytes.remove(at: position)
                case 2: bytes.insert(alphabet.randomElement(using: &generator)!, at: min(position, bytes.count))
                case 3: bytes = Array(bytes.prefix(position))
                default: if !bytes.isEmpty { bytes[position] = UInt8.random(in: 0...255, using: &generator) }
                }
            }
            var headers: [String: String] = [:]
            if path.hasPrefix("/v2"), Int.random(in: 0..<4, using: &generator) == 0 {
                headers["Inference-Header-Content-Length"] = String(Int.random(in: 0...(bytes.count + 4), using: &generator))
            }
            let answer = try await server.request("POST", path, body: Data(bytes), headers: headers)
            statuses[answer.status, default: 0] += 1
            #expect(answer.status < 500, "\(path) \(String(decoding: bytes, as: UTF8.self)): \(answer.status) \(answer.text)")
            if answer.status != 200 {
                #expect((answer.json as? [String: Any])?["error"] is String, "\(answer.text)")
            }
        }
        #expect(statuses.values.reduce(0, +) == total)
        let healthy = try await server.post("/v1/models/two_io:predict", json: seeds[1].1)
        #expect(healthy.status == 200)
    }

    /// New version directories appear and old ones go while clients send requests for 20 s:
    /// no request fails, and every answer names a version that was put in the repository.
    @Test func versionSwapsUnderLoadLoseNoRequest() async throws {
        let repository = try ScratchRepository()
        try repository.addVersion("mlp", 1, fixture: "mlp")
        let server = try await TestServer.start(repository: repository.root, pollInterval: .milliseconds(200))
        defer { Task { await server.stop() } }
        let pixels = "[" + Array(repeating: "0.5", count: 784).joined(separator: ",") + "]"
        let body = #"{"inputs": [{"name": "pixels", "shape": [1, 784], "datatype": "FP32", "data": \#(pixels)}]}"#
        let deadline = ContinuousClock.now + .seconds(20)
        let swaps = try await withThrowingTaskGroup(of: (ok: Int, failed: [String], versions: Set<String>, swaps: Int).self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var ok = 0
                    var failed: [String] = []
                    var versions: Set<String> = []
                    while ContinuousClock.now < deadline {
                        do {
                            let answer = try await server.post("/v2/models/mlp/infer", json: body)
                            let version = (answer.json as? [String: Any])?["model_version"] as? String
                            if answer.status == 200, let version {
                                ok += 1
                                versions.insert(version)
                            } else {
                                failed.append("\(answer.status) \(answer.text)")
                            }
                        } catch {
                            failed.append("\(error)")
                        }
                    }
                    return (ok, failed, versions, 0)
                }
            }
            group.addTask {
                var version: Int64 = 1
                var swaps = 0
                while ContinuousClock.now < deadline - .seconds(2) {
                    try repository.addVersion("mlp", version + 1, fixture: "mlp", onnx: version % 2 == 1)
                    // Wait until the watcher has picked it up and it serves, then remove the old one.
                    while try await server.get("/v2/models/mlp/versions/\(version + 1)/ready").status != 200 {
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    try repository.removeVersion("mlp", version)
                    version += 1
                    swaps += 1
                }
                return (0, [], Set((1...version).map(String.init)), swaps)
            }
            var ok = 0
            var failed: [String] = []
            var seen: Set<String> = []
            var created: Set<String> = []
            var swaps = 0
            for try await result in group {
                ok += result.ok
                failed += result.failed
                if result.swaps > 0 { created = result.versions } else { seen.formUnion(result.versions) }
                swaps += result.swaps
            }
            #expect(failed.isEmpty, "\(failed.count) failed requests, first: \(failed.first ?? "")")
            #expect(ok > 200)
            #expect(seen.isSubset(of: created), "answers from versions \(seen.subtracting(created))")
            #expect(seen.count > 2, "answers came from \(seen.count) versions")
            return swaps
        }
        #expect(swaps >= 5)
    }
}
