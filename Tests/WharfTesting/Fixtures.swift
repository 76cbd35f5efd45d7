public import Foundation
public import WharfCore

/// The fixtures scripts/bootstrap builds with real TensorFlow and tf2onnx (python/make_fixtures.py):
/// per model a SavedModel, its ONNX conversion, and the outputs Python computed for sample inputs.
public enum Fixtures {
    /// The repository's root directory.
    public static let repositoryRoot: URL = {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
                return directory
            }
            directory.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }()

    /// Where the generated fixtures live.
    public static let root = repositoryRoot.appendingPathComponent("Fixtures/generated")

    /// Every fixture model's name.
    public static let modelNames = ["mlp", "cnn", "two_io", "strings", "multi_signature", "dtypes"]

    /// The SavedModel directory of a fixture.
    public static func savedModel(_ name: String) -> String { root.appendingPathComponent("\(name)/saved_model").path }

    /// The ONNX file of a fixture.
    public static func onnxModel(_ name: String) -> String { root.appendingPathComponent("\(name)/model.onnx").path }

    /// A model in a format `wharf convert` reads, under `sources/` (`classifier.keras`, `tf1`,
    /// `frozen.pb`, `calibration.npy`, ...; see make_sources in python/make_fixtures.py).
    public static func source(_ name: String) -> String { root.appendingPathComponent("sources/\(name)").path }

    /// The inputs and expected outputs of a fixture.
    public static func cases(_ name: String) throws -> FixtureCases {
        let data = try Data(contentsOf: root.appendingPathComponent("\(name)/cases.json"))
        return try JSONDecoder().decode(FixtureCases.self, from: data)
    }

    /// Whether scripts/bootstrap has built the fixtures.
    public static var available: Bool { FileManager.default.fileExists(atPath: root.appendingPathComponent(".stamp").path) }
}

/// One fixture's cases.json.
public struct FixtureCases: Decodable, Sendable {
    public struct SpecInfo: Decodable, Sendable {
        public var dtype: String
        public var shape: [Int]?
    }
    public struct SignatureInfo: Decodable, Sendable {
        public var inputs: [String: SpecInfo]
        public var outputs: [String: SpecInfo]
    }
    public struct Case: Decodable, Sendable {
        public var signature: String
        public var inputs: [String: EncodedTensor]
        public var tensorflow: [String: EncodedTensor]
        public var onnx: [String: EncodedTensor]?
    }
    public var name: String
    public var signatures: [String: SignatureInfo]
    public var cases: [Case]
    enum CodingKeys: String, CodingKey { case name, signatures, cases }
}

/// A tensor as the fixture script writes it: dtype, shape and base64 bytes or strings.
public struct EncodedTensor: Decodable, Sendable {
    public var dtype: String
    public var shape: [Int]
    public var data_b64: String?
    public var strings_b64: [String]?

    /// The decoded tensor.
    public func tensor() throws -> Tensor {
        guard let type = DataType(name: dtype) else { throw TensorError(.unsupportedType, "fixture dtype \(dtype)") }
        if type == .string {
            return try Tensor(shape: shape, strings: (strings_b64 ?? []).map { [UInt8](Data(base64Encoded: $0)!) })
        }
        let bytes = [UInt8](Data(base64Encoded: data_b64 ?? "")!)
        return try Tensor(dtype: type, shape: shape) { raw in
            raw.copyBytes(from: bytes)
        }
    }
}

/// The decoded inputs of a case.
extension FixtureCases.Case {
    public func inputTensors() throws -> [String: Tensor] {
        try inputs.mapValues { try $0.tensor() }
    }
}
