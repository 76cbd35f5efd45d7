public import Foundation

/// Where a registry keeps its records and artifacts, from flags, the environment and defaults:
///
/// - data directory: `--data-dir`, else `$WHARF_HOME`, else `~/.wharf`;
/// - records: `--registry URL` (`postgres://user@host:port/db`, `sqlite:/path/registry.sqlite`),
///   else `$WHARF_REGISTRY`, else `sqlite:DATA/registry.sqlite`;
/// - artifacts: `--artifacts URL` (a directory, `file:/dir`, or `s3://bucket/prefix?endpoint=...`),
///   else `$WHARF_ARTIFACTS`, else `DATA/artifacts`.
public struct RegistryLocation: Sendable, Equatable {
    public var dataDirectory: String
    public var database: String
    public var artifacts: String

    public init(dataDirectory: String? = nil, database: String? = nil, artifacts: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        let home = environment["HOME"] ?? NSHomeDirectory()
        let data = dataDirectory ?? environment["WHARF_HOME"] ?? home + "/.wharf"
        self.dataDirectory = URL(fileURLWithPath: data).standardizedFileURL.path
        self.database = database ?? environment["WHARF_REGISTRY"] ?? "sqlite:" + self.dataDirectory + "/registry.sqlite"
        self.artifacts = artifacts ?? environment["WHARF_ARTIFACTS"] ?? self.dataDirectory + "/artifacts"
    }

    /// Opens the registry (creating the SQLite file and artifact directory when needed).
    public func open(inspector: ArtifactInspector = ArtifactInspector()) async throws -> Registry {
        let backend = try await openBackend()
        let store: any ArtifactStore
        do {
            store = try openArtifacts()
        } catch {
            await backend.close()
            throw error
        }
        return Registry(store: RegistryStore(backend: backend), artifacts: store, inspector: inspector)
    }

    func openBackend() async throws -> any SQLBackend {
        if database.hasPrefix("sqlite:") {
            let path = String(database.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw RegistryError(.invalidArgument, "registry URL 'sqlite:' names no file; expected sqlite:/path/registry.sqlite") }
            return try SQLiteBackend(path: URL(fileURLWithPath: path).standardizedFileURL.path)
        }
        if database.hasPrefix("postgres://") || database.hasPrefix("postgresql://") {
            return try await PostgresBackend(url: database)
        }
        throw RegistryError(
            .invalidArgument,
            "registry URL '\(database)' is not one Wharf knows: expected postgres://user@host:port/database or sqlite:/path/registry.sqlite")
    }

    func openArtifacts() throws -> any ArtifactStore {
        if artifacts.hasPrefix("s3://") {
            return try S3ArtifactStore(url: artifacts, cacheDirectory: dataDirectory + "/cache")
        }
        var path = artifacts
        if path.hasPrefix("file:") { path = String(path.dropFirst("file:".count)) }
        guard !path.contains("://") else {
            throw RegistryError(.invalidArgument, "artifact store '\(artifacts)' is not one Wharf knows: expected a directory, file:/dir or s3://bucket/prefix")
        }
        return LocalArtifactStore(root: URL(fileURLWithPath: path).standardizedFileURL.path)
    }
}
