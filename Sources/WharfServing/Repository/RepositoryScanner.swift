import Foundation
import WharfRuntime

/// One model as found on disk: `BASE/<version>/` directories holding a SavedModel or model.onnx,
/// and an optional config file in `BASE`.
public struct ModelSource: Sendable, Equatable {
    public var name: String
    public var basePath: String
    /// The parsed config, or why it could not be used.
    public var config: Result<ModelConfig, ConfigError>
    /// Version directories, by number.
    public var versions: [Int64: VersionSource]

    public init(name: String, basePath: String, config: Result<ModelConfig, ConfigError>, versions: [Int64: VersionSource]) {
        self.name = name
        self.basePath = basePath
        self.config = config
        self.versions = versions
    }
}

/// One version directory and a fingerprint of its contents (relative paths, sizes and
/// modification times), used to tell when a directory being written has become stable.
public struct VersionSource: Sendable, Equatable {
    public var version: Int64
    public var path: String
    public var fingerprint: Int

    public init(version: Int64, path: String, fingerprint: Int) {
        self.version = version
        self.path = path
        self.fingerprint = fingerprint
    }
}

/// Lists the models of model repositories (`REPO/<model>/<version>/`) and of explicitly named
/// model base paths. Anything that is not an integer version directory is ignored, like TF Serving
/// and Triton do.
public struct RepositoryScanner: Sendable {
    /// Repository roots: every subdirectory is a model.
    public var repositories: [String]
    /// Explicit models: name → base path.
    public var models: [String: String]

    public init(repositories: [String], models: [String: String] = [:]) {
        self.repositories = repositories
        self.models = models
    }

    /// The models on disk now.
    public func scan() -> [String: ModelSource] {
        let fileManager = FileManager.default
        var result: [String: ModelSource] = [:]
        for repository in repositories {
            let entries = (try? fileManager.contentsOfDirectory(atPath: repository)) ?? []
            for entry in entries.sorted() where !entry.hasPrefix(".") {
                let base = repository + "/" + entry
                var isDirectory: ObjCBool = false
                guard fileManager.fileExists(atPath: base, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
                result[entry] = RepositoryScanner.model(name: entry, basePath: base)
            }
        }
        for (name, base) in models {
            result[name] = RepositoryScanner.model(name: name, basePath: base)
        }
        return result
    }

    /// One model's base directory.
    public static func model(name: String, basePath: String) -> ModelSource {
        let fileManager = FileManager.default
        var versions: [Int64: VersionSource] = [:]
        for entry in (try? fileManager.contentsOfDirectory(atPath: basePath)) ?? [] {
            guard let number = Int64(entry), number >= 0, String(number) == entry else { continue }
            let path = basePath + "/" + entry
            var isDirectory: ObjCBool = false
            guard fileManager.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            versions[number] = VersionSource(version: number, path: path, fingerprint: fingerprint(of: path))
        }
        return ModelSource(name: name, basePath: basePath, config: config(in: basePath), versions: versions)
    }

    package static func config(in basePath: String) -> Result<ModelConfig, ConfigError> {
        for fileName in ModelConfig.fileNames {
            let path = basePath + "/" + fileName
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            do {
                return .success(try ModelConfig.parse(yaml: text, source: path))
            } catch {
                return .failure(error)
            }
        }
        return .success(ModelConfig())
    }

    /// A hash of every file's relative path, size and modification time under `path`.
    static func fingerprint(of path: String) -> Int {
        var hasher = Hasher()
        let fileManager = FileManager.default
        guard let enumerator = fileManager.enumerator(atPath: path) else { return 0 }
        var entries: [String] = []
        while let relative = enumerator.nextObject() as? String { entries.append(relative) }
        for relative in entries.sorted() {
            hasher.combine(relative)
            if let attributes = try? fileManager.attributesOfItem(atPath: path + "/" + relative) {
                hasher.combine((attributes[.size] as? NSNumber)?.int64Value ?? -1)
                hasher.combine((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)
            }
        }
        return hasher.finalize()
    }
}
