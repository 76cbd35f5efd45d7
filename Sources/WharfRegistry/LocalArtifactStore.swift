import Crypto
import Foundation

/// Artifacts in a local directory:
///
/// ```
/// ROOT/objects/<sha256>/...          one artifact tree (served from here directly)
/// ROOT/manifests/<sha256>.json       its files, sizes and hashes, to name what changed
/// ROOT/tmp/<uuid>/                   a put under way
/// ```
///
/// A put copies into `tmp`, hashing while it copies, syncs every file, and renames the directory
/// into `objects` (a rename within one file system is atomic). Identical artifacts are stored once.
public struct LocalArtifactStore: ArtifactStore {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    public var location: String { "file:" + root }
    var objects: String { root + "/objects" }
    var manifests: String { root + "/manifests" }
    var temporary: String { root + "/tmp" }

    public func put(directory: String) async throws -> TreeHash {
        let fileManager = FileManager.default
        let files = try TreeHash.files(under: directory)
        let staging = temporary + "/" + UUID().uuidString
        do {
            for path in [objects, manifests, staging] { try fileManager.createDirectory(atPath: path, withIntermediateDirectories: true) }
        } catch {
            throw RegistryError(.storage, "cannot create the artifact store at \(root): \(error)", cause: error)
        }
        var entries: [TreeHash.Entry] = []
        do {
            for relative in files {
                let (size, digest) = try Self.copy(directory + "/" + relative, to: staging + "/" + relative)
                entries.append(TreeHash.Entry(path: relative, size: size, sha256: digest))
            }
        } catch {
            try? fileManager.removeItem(atPath: staging)
            throw error
        }
        let tree = TreeHash(entries: entries)
        let hash = tree.hash
        let destination = objects + "/" + hash
        try writeManifest(tree)
        if fileManager.fileExists(atPath: destination) {
            try? fileManager.removeItem(atPath: staging)
        } else if rename(staging, destination) != 0 {
            let reason = String(cString: strerror(errno))
            try? fileManager.removeItem(atPath: staging)
            if !fileManager.fileExists(atPath: destination) {
                throw RegistryError(.storage, "cannot move the artifact into \(destination): \(reason)")
            }
        }
        Self.syncDirectory(objects)
        return tree
    }

    public func materialize(hash: String) async throws -> String {
        let path = try await localPath(hash: hash)
        try TreeHash.verify(directory: path, expected: hash, recorded: manifest(hash))
        return path
    }

    public func localPath(hash: String) async throws -> String {
        try Self.checkHash(hash)
        let path = objects + "/" + hash
        guard FileManager.default.fileExists(atPath: path) else {
            throw RegistryError(.artifactMissing, "artifact \(hash) is not in the artifact store \(location)")
        }
        return path
    }

    public func contains(hash: String) async throws -> Bool {
        try Self.checkHash(hash)
        return FileManager.default.fileExists(atPath: objects + "/" + hash)
    }

    public func list() async throws -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: objects)) ?? []).filter { $0.count == 64 }.sorted()
    }

    public func delete(hash: String) async throws {
        try Self.checkHash(hash)
        // Rename first so that a half-deleted tree is never visible under its hash.
        let doomed = temporary + "/deleting-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        if rename(objects + "/" + hash, doomed) == 0 { try? FileManager.default.removeItem(atPath: doomed) }
        try? FileManager.default.removeItem(atPath: manifests + "/" + hash + ".json")
    }

    public func removeLeftovers() async throws -> Int {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? []
        for entry in entries { try? FileManager.default.removeItem(atPath: temporary + "/" + entry) }
        return entries.count
    }

    /// The recorded file list of an artifact, if its manifest is there.
    func manifest(_ hash: String) -> [TreeHash.Entry]? {
        guard let data = FileManager.default.contents(atPath: manifests + "/" + hash + ".json") else { return nil }
        return try? JSONDecoder().decode([TreeHash.Entry].self, from: data)
    }

    private func writeManifest(_ tree: TreeHash) throws(RegistryError) {
        let path = manifests + "/" + tree.hash + ".json"
        do {
            let data = try JSONEncoder().encode(tree.entries)
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw RegistryError(.storage, "cannot write \(path): \(error)", cause: error)
        }
    }

    /// Refuses anything but 64 hex digits, so a hash can never name a path outside the store.
    package static func checkHash(_ hash: String) throws(RegistryError) {
        guard hash.utf8.count == 64, hash.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw RegistryError(.invalidArgument, "'\(hash)' is not a sha256 content hash (64 lower-case hex digits)")
        }
    }

    /// Copies one file, creating its directory, hashing while copying, and syncs it to disk.
    static func copy(_ source: String, to destination: String) throws -> (Int64, String) {
        do {
            try FileManager.default.createDirectory(
                atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        } catch {
            throw RegistryError(.storage, "cannot create a directory for \(destination): \(error)", cause: error)
        }
        let input = open(source, O_RDONLY)
        guard input >= 0 else { throw RegistryError(.artifactMissing, "cannot read \(source): \(String(cString: strerror(errno)))") }
        defer { closeDescriptor(input) }
        let output = open(destination, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard output >= 0 else { throw RegistryError(.storage, "cannot write \(destination): \(String(cString: strerror(errno)))") }
        defer { closeDescriptor(output) }
        var hasher = SHA256()
        var size: Int64 = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if count < 0 { throw RegistryError(.storage, "cannot read \(source): \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            try buffer.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) throws in
                let chunk = UnsafeRawBufferPointer(rebasing: bytes[0..<count])
                hasher.update(bufferPointer: chunk)
                var offset = 0
                while offset < count {
                    let written = write(output, chunk.baseAddress! + offset, count - offset)
                    if written <= 0 { throw RegistryError(.storage, "cannot write \(destination): \(String(cString: strerror(errno)))") }
                    offset += written
                }
            }
            size += Int64(count)
        }
        guard fsync(output) == 0 else { throw RegistryError(.storage, "cannot sync \(destination): \(String(cString: strerror(errno)))") }
        return (size, hasher.finalize().hex)
    }

    static func syncDirectory(_ path: String) {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        closeDescriptor(descriptor)
    }
}

/// Closes a file descriptor (the system's `close`, which the stores' own `close()` hides inside
/// their types).
func closeDescriptor(_ descriptor: Int32) {
    _ = close(descriptor)
}
