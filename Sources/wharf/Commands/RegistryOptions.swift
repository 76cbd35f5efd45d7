import ArgumentParser
import Foundation
import WharfRegistry

/// Where the registry is: the options every registry command (and `wharf serve`) takes.
struct RegistryOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Wharf's data directory (default: $WHARF_HOME or ~/.wharf).")
    var dataDirectory: String?

    @Option(name: .customLong("registry"), help: "Registry database: postgres://user@host:port/db or sqlite:/path (default: sqlite in the data directory; $WHARF_REGISTRY).")
    var database: String?

    @Option(name: .customLong("artifacts"), help: "Artifact store: a directory or s3://bucket/prefix?endpoint=URL (default: DATA_DIR/artifacts; $WHARF_ARTIFACTS).")
    var artifacts: String?

    var location: RegistryLocation {
        RegistryLocation(dataDirectory: dataDirectory, database: database, artifacts: artifacts)
    }

    /// Whether any of the options was given.
    var isGiven: Bool { dataDirectory != nil || database != nil || artifacts != nil }

    /// Opens the registry; a failure becomes a plain message, not a stack of types.
    func open(inspect: Bool = true) async throws -> Registry {
        do {
            return try await location.open(inspector: ArtifactInspector(loadModel: inspect))
        } catch let error as RegistryError {
            throw ValidationError(error.message)
        }
    }
}
