public import Foundation

/// A model repository in a scratch directory, filled with copies of the fixtures.
public final class ScratchRepository: Sendable {
    /// The repository's directory.
    public let root: URL

    /// An empty repository in a new temporary directory, removed with the object.
    public init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("wharf-repo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    /// Adds `model/version` holding a copy of a fixture (SavedModel or ONNX), written elsewhere
    /// and renamed into place, as a careful writer would.
    public func addVersion(_ model: String, _ version: Int64, fixture: String = "mlp", onnx: Bool = false) throws {
        let base = root.appendingPathComponent(model)
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        let staging = root.appendingPathComponent(".staging-\(UUID().uuidString)")
        if onnx {
            try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: Fixtures.onnxModel(fixture), toPath: staging.appendingPathComponent("model.onnx").path)
        } else {
            try FileManager.default.copyItem(atPath: Fixtures.savedModel(fixture), toPath: staging.path)
        }
        try FileManager.default.moveItem(at: staging, to: base.appendingPathComponent(String(version)))
    }

    /// Adds a version whose saved_model.pb is garbage.
    public func addCorruptVersion(_ model: String, _ version: Int64) throws {
        let directory = root.appendingPathComponent("\(model)/\(version)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data(repeating: 0xAB, count: 512).write(to: directory.appendingPathComponent("saved_model.pb"))
    }

    public func removeVersion(_ model: String, _ version: Int64) throws {
        try FileManager.default.removeItem(at: root.appendingPathComponent("\(model)/\(version)"))
    }

    /// Writes a file at a path relative to the repository (creating directories).
    public func write(_ relativePath: String, _ text: String) throws {
        let url = root.appendingPathComponent(relativePath)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    /// Writes a model's wharf.yaml.
    public func writeConfig(_ model: String, _ yaml: String) throws {
        try Data(yaml.utf8).write(to: root.appendingPathComponent("\(model)/wharf.yaml"))
    }

}
