import Crypto
import Foundation

/// The content hash of an artifact: a directory tree of regular files.
///
/// sha256 over one line per file, sorted by relative path: `PATH\0SIZE\0SHA256(CONTENTS)\n`.
/// Names, sizes and contents count; modification times and empty directories do not, so the same
/// model copied anywhere has the same hash. Symbolic links are refused: an artifact is
/// self-contained.
public struct TreeHash: Sendable, Equatable {
    /// One file of the tree.
    public struct Entry: Sendable, Codable, Equatable {
        public var path: String
        public var size: Int64
        public var sha256: String
    }

    public var entries: [Entry]

    public init(entries: [Entry]) {
        self.entries = entries.sorted { $0.path < $1.path }
    }

    /// The tree's hash (64 hex digits).
    public var hash: String {
        var hasher = SHA256()
        for entry in entries {
            hasher.update(data: Data("\(entry.path)\u{0}\(entry.size)\u{0}\(entry.sha256)\n".utf8))
        }
        return hasher.finalize().hex
    }

    public var size: Int64 { entries.reduce(0) { $0 + $1.size } }

    /// Hashes the tree at `directory`.
    public static func of(directory: String) throws(RegistryError) -> TreeHash {
        var entries: [Entry] = []
        for relative in try files(under: directory) {
            let (size, digest) = try hashFile(directory + "/" + relative)
            entries.append(Entry(path: relative, size: size, sha256: digest))
        }
        return TreeHash(entries: entries)
    }

    /// The relative paths of the regular files under `directory`, sorted.
    static func files(under directory: String) throws(RegistryError) -> [String] {
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        guard fileManager.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RegistryError(.artifactMissing, "\(directory) is not a directory")
        }
        guard let enumerator = fileManager.enumerator(atPath: directory) else {
            throw RegistryError(.artifactMissing, "cannot list \(directory)")
        }
        var result: [String] = []
        while let relative = enumerator.nextObject() as? String {
            let attributes = try? fileManager.attributesOfItem(atPath: directory + "/" + relative)
            switch attributes?[.type] as? FileAttributeType {
            case .typeRegular?: result.append(relative)
            case .typeDirectory?: continue
            case .typeSymbolicLink?:
                throw RegistryError(.notAModel, "\(directory)/\(relative) is a symbolic link; an artifact must hold plain files only")
            default:
                throw RegistryError(.notAModel, "\(directory)/\(relative) is not a regular file or directory")
            }
        }
        return result.sorted()
    }

    /// The size and sha256 of one file, read in 1 MiB chunks.
    static func hashFile(_ path: String) throws(RegistryError) -> (Int64, String) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw RegistryError(.artifactMissing, "cannot read \(path)")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        var size: Int64 = 0
        do {
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                hasher.update(data: chunk)
                size += Int64(chunk.count)
            }
        } catch {
            throw RegistryError(.storage, "cannot read \(path): \(error)", cause: error)
        }
        return (size, hasher.finalize().hex)
    }

    /// Checks that the tree at `directory` has hash `expected`; the error names the files that
    /// differ from `recorded` (the entries kept when the artifact was stored) when they are known.
    public static func verify(directory: String, expected: String, recorded: [Entry]? = nil) throws(RegistryError) {
        let actual = try of(directory: directory)
        guard actual.hash != expected else { return }
        var detail = ""
        if let recorded {
            let before = Dictionary(recorded.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
            let after = Dictionary(actual.entries.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
            let changed = Set(before.keys).union(after.keys).sorted().filter { before[$0] != after[$0] }
            if !changed.isEmpty { detail = "; changed: " + changed.prefix(5).joined(separator: ", ") }
        }
        throw RegistryError(
            .hashMismatch,
            "artifact at \(directory) fails verification: expected sha256 \(expected), found \(actual.hash)\(detail). It was modified after registration; push the model again")
    }
}

extension Sequence<UInt8> {
    /// Lower-case hex digits.
    var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        for byte in self {
            bytes.append(digits[Int(byte >> 4)])
            bytes.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
