/// Where version artifacts live, addressed by their content hash (`TreeHash`). Storing is atomic:
/// an artifact becomes visible only once every file is written, so a push that dies half-way
/// leaves nothing that looks complete. Reading verifies the hash.
public protocol ArtifactStore: Sendable {
    /// For people: `file:/home/me/.wharf/artifacts`, `s3://bucket/prefix`.
    var location: String { get }
    /// Copies the directory tree at `directory` in; returns what it stored.
    func put(directory: String) async throws -> TreeHash
    /// A local directory holding the artifact `hash`, verified against the hash. Serving loads
    /// models from it.
    func materialize(hash: String) async throws -> String
    /// A local directory holding the artifact `hash` (downloaded first by remote stores), not
    /// verified: serving verifies it as it loads, so that a tampered artifact shows up as that
    /// version's load error.
    func localPath(hash: String) async throws -> String
    /// Whether the artifact `hash` is stored (complete).
    func contains(hash: String) async throws -> Bool
    /// The hashes of every stored artifact.
    func list() async throws -> [String]
    /// Removes an artifact (garbage collection; the registry never removes a referenced one).
    func delete(hash: String) async throws
    /// Removes what interrupted puts left behind; returns how many leftovers it removed.
    func removeLeftovers() async throws -> Int
    /// Releases what the store holds open (a remote store's HTTP client). Called once, when done
    /// with the store; nothing may follow.
    func close() async
}

extension ArtifactStore {
    /// Nothing to release.
    public func close() async {}
}
