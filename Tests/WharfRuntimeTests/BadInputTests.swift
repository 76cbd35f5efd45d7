import Foundation
import Testing
import WharfCore
import WharfRuntime
import WharfTesting

/// Every kind of bad input gets a clear error (what was expected, what came), never a crash.
@Suite(.enabled(if: Fixtures.available, "run scripts/bootstrap to build the fixtures"))
struct BadInputTests {
    static let loader = ModelLoader()

    /// A scratch directory removed when the test ends.
    static func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("wharf-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func expectError<E: WharfError>(
        _ type: E.Type, containing fragments: [String], _ body: () throws -> Void,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        do {
            try body()
            Issue.record("expected \(E.self), nothing was thrown", sourceLocation: sourceLocation)
        } catch let error as E {
            for fragment in fragments {
                #expect(error.message.contains(fragment), "'\(error.message)' lacks '\(fragment)'", sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("expected \(E.self), got \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func missingRuntimeLibraryNamesTheVariableAndTheSetupCommand() {
        for runtime in RuntimeKind.allCases {
            let explicit = RuntimeLocator(environment: [runtime.environmentVariable: "/nonexistent/lib.so"], searchRoots: [])
            expectError(RuntimeError.self, containing: [runtime.environmentVariable, "/nonexistent/lib.so", "scripts/bootstrap"]) {
                _ = try explicit.locate(runtime)
            }
            let nothing = RuntimeLocator(environment: [:], searchRoots: ["/proc/self"])
            expectError(RuntimeError.self, containing: [runtime.environmentVariable, "scripts/bootstrap", "not found"]) {
                _ = try nothing.locate(runtime)
            }
        }
    }

    @Test func wrongRuntimeLibraryIsAClearError() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let notALibrary = directory.appendingPathComponent("libtensorflow_cc.so.2")
        try Data("not an ELF file".utf8).write(to: notALibrary)
        let loader = ModelLoader(locator: RuntimeLocator(environment: ["WHARF_TF_LIB": notALibrary.path], searchRoots: []))
        expectError(RuntimeError.self, containing: ["cannot open the TensorFlow library", "WHARF_TF_LIB"]) {
            _ = try loader.load(path: Fixtures.savedModel("mlp"))
        }
        // A real shared library that is not ONNX Runtime.
        let libz = ["/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1", "/lib/aarch64-linux-gnu/libz.so.1"]
            .first { FileManager.default.fileExists(atPath: $0) }
        if let libz {
            let ortLoader = ModelLoader(locator: RuntimeLocator(environment: ["WHARF_ORT_LIB": libz], searchRoots: []))
            expectError(RuntimeError.self, containing: ["does not export OrtGetApiBase", "WHARF_ORT_LIB"]) {
                _ = try ortLoader.load(path: Fixtures.onnxModel("mlp"))
            }
        }
    }

    @Test func corruptSavedModel() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let copy = directory.appendingPathComponent("saved_model")
        try FileManager.default.copyItem(atPath: Fixtures.savedModel("mlp"), toPath: copy.path)
        try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) }).write(to: copy.appendingPathComponent("saved_model.pb"))
        expectError(RuntimeError.self, containing: ["cannot load the SavedModel", copy.path]) {
            _ = try Self.loader.load(path: copy.path)
        }
    }

    @Test func truncatedONNX() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Fixtures.onnxModel("cnn")))
        let truncated = directory.appendingPathComponent("model.onnx")
        try bytes.prefix(bytes.count / 2).write(to: truncated)
        expectError(RuntimeError.self, containing: ["cannot load the ONNX model", truncated.path]) {
            _ = try Self.loader.load(path: truncated.path)
        }
    }

    @Test func directoryWithNoModel() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("hello".utf8).write(to: directory.appendingPathComponent("README.txt"))
        expectError(RuntimeError.self, containing: ["no model in directory", "saved_model.pb", "README.txt"]) {
            _ = try Self.loader.load(path: directory.path)
        }
        expectError(RuntimeError.self, containing: ["does not exist"]) {
            _ = try Self.loader.load(path: directory.appendingPathComponent("missing").path)
        }
    }

    @Test(arguments: ["saved_model", "onnx"])
    func requestMismatchesNameTheInputAndSayWhatWasExpected(kind: String) throws {
        let model = try Self.loader.load(path: kind == "onnx" ? Fixtures.onnxModel("mlp") : Fixtures.savedModel("mlp"))
        let good = try Tensor(shape: [1, 784], scalars: [Float](repeating: 0.5, count: 784))
        if kind == "saved_model" {
            expectError(InferenceError.self, containing: ["'nope'", "serving_default"]) {
                _ = try model.run(signature: "nope", inputs: ["pixels": good])
            }
        }
        expectError(InferenceError.self, containing: ["no input 'image'", "pixels"]) {
            _ = try model.run(inputs: ["image": good])
        }
        expectError(InferenceError.self, containing: ["'pixels'", "expects float32 [-1, 784]", "got int64 [1, 784]"]) {
            _ = try model.run(inputs: ["pixels": try Tensor(shape: [1, 784], scalars: [Int64](repeating: 1, count: 784))])
        }
        expectError(InferenceError.self, containing: ["'pixels'", "got float32 [784]", "rank 1"]) {
            _ = try model.run(inputs: ["pixels": try Tensor(shape: [784], scalars: [Float](repeating: 0, count: 784))])
        }
        expectError(InferenceError.self, containing: ["'pixels'", "got float32 [1, 783]", "static dimension"]) {
            _ = try model.run(inputs: ["pixels": try Tensor(shape: [1, 783], scalars: [Float](repeating: 0, count: 783))])
        }
        expectError(InferenceError.self, containing: ["'pixels'", "expects float32", "got string [1, 784]"]) {
            _ = try model.run(inputs: ["pixels": try Tensor(shape: [1, 784], strings: [String](repeating: "0.5", count: 784))])
        }
        expectError(InferenceError.self, containing: ["needs input 'pixels'"]) {
            _ = try model.run(inputs: [:])
        }
        expectError(InferenceError.self, containing: ["no output 'logits'", "probabilities"]) {
            _ = try model.run(signature: nil, inputs: ["pixels": good], outputs: ["logits"])
        }
        // The model still works after every rejected request.
        #expect(try model.run(inputs: ["pixels": good])["probabilities"]?.shape == [1, 10])
    }
}
