import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import WharfCore

/// Artifacts in an S3 bucket, on AWS or any S3-compatible server (addressed path-style):
///
/// ```
/// PREFIX/objects/<sha256>/<path>     the files of one artifact tree
/// PREFIX/manifests/<sha256>.json     its TreeHash entries, written last: marks the artifact complete
/// ```
///
/// An artifact exists (``contains(hash:)``, ``list()``) only once its manifest does, so a put that
/// dies half-way leaves objects nobody sees, which ``removeLeftovers()`` removes. Uploads are
/// signed with the sha256 of each file (known from hashing the tree), so the server rejects a file
/// that changed since it was hashed.
///
/// Serving needs local files: ``materialize(hash:)`` downloads into a cache directory,
///
/// ```
/// CACHE/objects/<sha256>/            a verified copy, which serving loads
/// CACHE/manifests/<sha256>.json      its entries, to name changed files when verification fails
/// CACHE/tmp/<uuid>/                  a download under way, renamed into objects once verified
/// ```
///
/// The store owns one HTTP client; call ``close()`` once done with it (``Registry/close()`` does).
public final class S3ArtifactStore: ArtifactStore {
    /// The bucket, prefix and server.
    public let s3: S3Location
    /// Where downloaded artifacts are kept.
    public let cacheDirectory: String
    /// How old the objects of an incomplete artifact (and a local temporary directory) must be
    /// before ``removeLeftovers()`` takes them for the remains of a put that died rather than one
    /// under way.
    public let leftoverAge: Duration

    let signer: S3Signer
    let http: HTTPClient
    /// How many requests were sent, by operation (`PUT object`, `GET manifest`, ...).
    private let counts = Mutex<[String: Int]>([:])
    /// How many transfers run at once within one put, materialize or delete.
    private let concurrency = 4

    /// A store at `location`, signing with `credentials` (when nil, those in the environment:
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), downloading into
    /// `cacheDirectory`.
    public init(
        location: S3Location, credentials: S3Credentials? = nil, cacheDirectory: String, leftoverAge: Duration = .seconds(3600)
    ) throws(RegistryError) {
        self.s3 = location
        self.cacheDirectory = cacheDirectory
        self.leftoverAge = leftoverAge
        let resolved: S3Credentials
        if let credentials { resolved = credentials } else { resolved = try S3Credentials.fromEnvironment() }
        signer = S3Signer(credentials: resolved, region: location.region)
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        // A refused connection fails the request at once, naming the endpoint, instead of being
        // retried until the connect timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(120))
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// A store at `url` (`s3://BUCKET/PREFIX?endpoint=...&region=...`, see ``S3Location``).
    public convenience init(
        url: String, credentials: S3Credentials? = nil, cacheDirectory: String, leftoverAge: Duration = .seconds(3600)
    ) throws(RegistryError) {
        try self.init(location: S3Location(url: url), credentials: credentials, cacheDirectory: cacheDirectory, leftoverAge: leftoverAge)
    }

    /// Closes the HTTP client's connections. Call once, when done with the store; no request may
    /// follow. (AsyncHTTPClient stops a debug build whose client is released unclosed.)
    public func close() async {
        try? await http.shutdown()
    }

    /// `s3://BUCKET/PREFIX?...`, as ``S3Location/description`` writes it.
    public var location: String { s3.description }

    var localObjects: String { cacheDirectory + "/objects" }
    var localManifests: String { cacheDirectory + "/manifests" }
    var localTemporary: String { cacheDirectory + "/tmp" }

    func objectKey(_ hash: String, _ path: String) -> String { s3.key("objects/\(hash)/\(path)") }
    func manifestKey(_ hash: String) -> String { s3.key("manifests/\(hash).json") }

    /// Requests sent so far, by operation.
    var requestCounts: [String: Int] { counts.withLock { $0 } }

    // MARK: ArtifactStore

    /// Hashes the tree, and unless the bucket already holds the artifact (its manifest exists),
    /// uploads every file and then the manifest.
    public func put(directory: String) async throws -> TreeHash {
        let tree = try TreeHash.of(directory: directory)
        if try await contains(hash: tree.hash) { return tree }
        try await uploadObjects(tree, from: directory)
        try await uploadManifest(tree)
        return tree
    }

    /// `CACHE/objects/<hash>`: the cached copy when it still verifies, else a fresh download,
    /// verified before it is renamed into place. A file changed in the bucket throws
    /// `hashMismatch`; an artifact without manifest throws `artifactMissing`.
    /// The cached copy when there is one (serving verifies it as it loads), else a fresh download
    /// (verified here).
    public func localPath(hash: String) async throws -> String {
        try LocalArtifactStore.checkHash(hash)
        let cached = localObjects + "/" + hash
        if FileManager.default.fileExists(atPath: cached) { return cached }
        return try await materialize(hash: hash)
    }

    public func materialize(hash: String) async throws -> String {
        try LocalArtifactStore.checkHash(hash)
        let destination = localObjects + "/" + hash
        let fileManager = FileManager.default
        if fileManager.fileExists(atPath: destination) {
            do {
                try TreeHash.verify(directory: destination, expected: hash, recorded: cachedManifest(hash))
                return destination
            } catch {
                // The bucket holds the artifact; a damaged cached copy is moved aside and fetched again.
                discardCachedCopy(hash)
            }
        }
        guard let entries = try await downloadManifest(hash) else {
            throw RegistryError(
                .artifactMissing,
                "artifact \(hash) is not in the artifact store \(location): no manifest \(s3.name(manifestKey(hash)))")
        }
        for entry in entries where !Self.isPlainRelativePath(entry.path) {
            throw RegistryError(.hashMismatch, "the manifest \(s3.name(manifestKey(hash))) names '\(entry.path)', which is not a relative path inside the artifact")
        }
        let staging = localTemporary + "/" + UUID().uuidString
        do {
            try fileManager.createDirectory(atPath: staging, withIntermediateDirectories: true)
            try fileManager.createDirectory(atPath: localObjects, withIntermediateDirectories: true)
            try fileManager.createDirectory(atPath: localManifests, withIntermediateDirectories: true)
        } catch {
            throw RegistryError(.storage, "cannot create the artifact cache at \(cacheDirectory): \(error)", cause: error)
        }
        do {
            try await forEach(entries) { entry in
                try await self.download(self.objectKey(hash, entry.path), to: staging + "/" + entry.path)
            }
            try verifyDownload(staging, hash: hash, entries: entries)
            let manifestData = try JSONEncoder.sorted.encode(entries)
            try manifestData.write(to: URL(fileURLWithPath: localManifests + "/" + hash + ".json"), options: .atomic)
        } catch {
            try? fileManager.removeItem(atPath: staging)
            throw error
        }
        if rename(staging, destination) != 0 {
            let reason = String(cString: strerror(errno))
            try? fileManager.removeItem(atPath: staging)
            // Another materialize of the same artifact may have got there first.
            guard fileManager.fileExists(atPath: destination) else {
                throw RegistryError(.storage, "cannot move the downloaded artifact into \(destination): \(reason)")
            }
            try TreeHash.verify(directory: destination, expected: hash, recorded: entries)
        }
        return destination
    }

    /// Whether the artifact's manifest exists.
    public func contains(hash: String) async throws -> Bool {
        try LocalArtifactStore.checkHash(hash)
        // GET rather than HEAD: an error answer to HEAD has no body to say what went wrong.
        return try await downloadManifest(hash) != nil
    }

    /// The hashes that have a manifest, sorted.
    public func list() async throws -> [String] {
        let prefix = s3.key("manifests/")
        return try await listObjects(prefix: prefix).objects.compactMap { object -> String? in
            guard object.key.hasSuffix(".json") else { return nil }
            let hash = String(object.key.dropFirst(prefix.count).dropLast(".json".count))
            return (try? LocalArtifactStore.checkHash(hash)) == nil ? nil : hash
        }.sorted()
    }

    /// Deletes the manifest, then the objects, then the cached copy. Deleting an artifact that is
    /// not there is no error.
    public func delete(hash: String) async throws {
        try LocalArtifactStore.checkHash(hash)
        // The manifest first: from then on the artifact is gone, whatever happens to its objects.
        _ = try await send(S3Request(method: .DELETE, operation: "DELETE manifest", key: manifestKey(hash)), accept: [404])
        try await deleteObjects(under: s3.key("objects/\(hash)/"))
        discardCachedCopy(hash)
    }

    /// Removes the objects of artifacts that have no manifest (puts that died half-way) and the
    /// local temporary directories of downloads that died; both only when older than
    /// ``leftoverAge``, so that a put or download under way keeps its files. Returns how many
    /// incomplete artifacts and temporary directories it removed.
    public func removeLeftovers() async throws -> Int {
        let complete = Set(try await list())
        let cutoff = Date().addingTimeInterval(-leftoverAge.seconds)
        let objectsPrefix = s3.key("objects/")
        var removed = 0
        for prefix in try await listObjects(prefix: objectsPrefix, delimiter: "/").prefixes {
            let hash = String(prefix.dropFirst(objectsPrefix.count).dropLast())
            guard (try? LocalArtifactStore.checkHash(hash)) != nil, !complete.contains(hash) else { continue }
            let objects = try await listObjects(prefix: prefix).objects
            guard !objects.isEmpty, objects.allSatisfy({ ($0.modified ?? .distantPast) <= cutoff }) else { continue }
            // A put may have completed since the list.
            if try await contains(hash: hash) { continue }
            try await forEach(objects.map(\.key)) { key in try await self.deleteObject(key) }
            removed += 1
        }
        let fileManager = FileManager.default
        for entry in (try? fileManager.contentsOfDirectory(atPath: localTemporary)) ?? [] {
            let path = localTemporary + "/" + entry
            let modified = (try? fileManager.attributesOfItem(atPath: path))?[.modificationDate] as? Date
            guard (modified ?? .distantPast) <= cutoff else { continue }
            if (try? fileManager.removeItem(atPath: path)) != nil { removed += 1 }
        }
        return removed
    }

    // MARK: Steps

    /// Uploads every file of `tree` from `directory`, without the manifest: the first half of a put.
    func uploadObjects(_ tree: TreeHash, from directory: String) async throws {
        let hash = tree.hash
        try await forEach(tree.entries) { entry in
            let payload: S3Payload =
                entry.size == 0
                ? .empty : .file(path: directory + "/" + entry.path, size: entry.size, sha256: entry.sha256)
            _ = try await self.send(
                S3Request(
                    method: .PUT, operation: "PUT object", key: self.objectKey(hash, entry.path),
                    headers: [(name: "content-type", value: "application/octet-stream")], payload: payload))
        }
    }

    /// Writes the manifest that makes the artifact visible.
    func uploadManifest(_ tree: TreeHash) async throws {
        let data: Data
        do {
            data = try JSONEncoder.sorted.encode(tree.entries)
        } catch {
            throw RegistryError(.storage, "cannot encode the manifest of \(tree.hash): \(error)", cause: error)
        }
        _ = try await send(
            S3Request(
                method: .PUT, operation: "PUT manifest", key: manifestKey(tree.hash),
                headers: [(name: "content-type", value: "application/json")],
                payload: .data(data)))
    }

    /// The entries of the artifact's manifest; nil when there is none.
    func downloadManifest(_ hash: String) async throws -> [TreeHash.Entry]? {
        let key = manifestKey(hash)
        let answer = try await send(S3Request(method: .GET, operation: "GET manifest", key: key), accept: [404])
        if answer.status == 404 { return nil }
        do {
            return try JSONDecoder().decode([TreeHash.Entry].self, from: Data(answer.body.readableBytesView))
        } catch {
            throw RegistryError(.storage, "the manifest \(s3.name(key)) is not a list of TreeHash entries: \(error)", cause: error)
        }
    }

    /// Streams one object into a new file at `path`.
    func download(_ key: String, to path: String) async throws {
        do {
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        } catch {
            throw RegistryError(.storage, "cannot create a directory for \(path): \(error)", cause: error)
        }
        let request = S3Request(method: .GET, operation: "GET object", key: key)
        let response = try await execute(request)
        guard (200..<300).contains(response.status.code) else {
            let body = try? await response.body.collect(upTo: 1 << 20)
            let error = failure(request, status: response.status, body: body)
            if response.status.code == 404 {
                throw RegistryError(.artifactMissing, "a file of the artifact is missing from the bucket: " + error.message, cause: error)
            }
            throw error
        }
        let output = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard output >= 0 else { throw RegistryError(.storage, "cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { closeDescriptor(output) }
        do {
            for try await buffer in response.body {
                try buffer.withUnsafeReadableBytes { (bytes: UnsafeRawBufferPointer) throws in
                    var offset = 0
                    while offset < bytes.count {
                        let written = write(output, bytes.baseAddress! + offset, bytes.count - offset)
                        if written <= 0 { throw RegistryError(.storage, "cannot write \(path): \(String(cString: strerror(errno)))") }
                        offset += written
                    }
                }
            }
        } catch let error as RegistryError {
            throw error
        } catch {
            throw RegistryError(.storage, "S3 GET object \(s3.name(key)) at \(s3.endpoint) broke off: \(error)", cause: error)
        }
    }

    func deleteObject(_ key: String) async throws {
        _ = try await send(S3Request(method: .DELETE, operation: "DELETE object", key: key), accept: [404])
    }

    func deleteObjects(under prefix: String) async throws {
        let keys = try await listObjects(prefix: prefix).objects.map(\.key)
        try await forEach(keys) { key in try await self.deleteObject(key) }
    }

    /// ListObjectsV2 over `prefix`, following continuation tokens: the objects, and with a
    /// delimiter the common prefixes. `pageSize` nil leaves the page size to the server (1000).
    func listObjects(
        prefix: String, delimiter: String? = nil, pageSize: Int? = nil
    ) async throws -> (objects: [(key: String, modified: Date?)], prefixes: [String]) {
        var objects: [(key: String, modified: Date?)] = []
        var prefixes: [String] = []
        var token: String?
        repeat {
            var query: [(name: String, value: String)] = [
                (name: "list-type", value: "2"), (name: "prefix", value: prefix), (name: "encoding-type", value: "url"),
            ]
            if let delimiter { query.append((name: "delimiter", value: delimiter)) }
            if let pageSize { query.append((name: "max-keys", value: String(pageSize))) }
            if let token { query.append((name: "continuation-token", value: token)) }
            let text = try await send(S3Request(method: .GET, operation: "ListObjectsV2", key: nil, query: query)).text[...]
            for contents in S3XML.elements("Contents", in: text) {
                guard let key = S3XML.first("Key", in: contents) else { continue }
                objects.append((key: S3XML.urlDecoded(key), modified: S3XML.first("LastModified", in: contents).flatMap(S3XML.date)))
            }
            for common in S3XML.elements("CommonPrefixes", in: text) {
                if let value = S3XML.first("Prefix", in: common) { prefixes.append(S3XML.urlDecoded(value)) }
            }
            token = S3XML.first("IsTruncated", in: text) == "true" ? S3XML.first("NextContinuationToken", in: text) : nil
        } while token != nil
        return (objects, prefixes)
    }

    // MARK: Requests

    /// Sends `request` and reads the answer; a status outside 2xx and `accept` throws, with S3's
    /// error code and message.
    func send(_ request: S3Request, accept: Set<UInt> = [], signer: S3Signer? = nil) async throws -> S3Answer {
        let response = try await execute(request, signer: signer)
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: 64 << 20)
        } catch {
            throw RegistryError(
                .storage, "S3 \(request.operation) \(target(request)) at \(s3.endpoint): cannot read the answer: \(error)", cause: error)
        }
        guard (200..<300).contains(response.status.code) || accept.contains(response.status.code) else {
            throw failure(request, status: response.status, body: body)
        }
        return S3Answer(status: response.status.code, headers: response.headers, body: body)
    }

    /// Signs and sends `request`; the answer's body is left to read.
    func execute(_ request: S3Request, signer: S3Signer? = nil) async throws -> HTTPClientResponse {
        let path = request.path ?? "/" + s3.bucket + (request.key.map { "/" + S3Signer.encodePath($0) } ?? "")
        let query = S3Signer.canonicalQuery(request.query)
        let headers = [(name: "host", value: s3.hostHeader)] + request.headers
        var outgoing = HTTPClientRequest(url: s3.endpoint + path + (query.isEmpty ? "" : "?" + query))
        outgoing.method = request.method.http
        switch request.payload {
        case .empty:
            if request.method == .PUT || request.method == .POST { outgoing.body = .bytes(ByteBuffer()) }
        case .data(let data):
            outgoing.body = .bytes(ByteBuffer(bytes: data))
        case .file(let file, let size, _):
            outgoing.body = .stream(FileChunks(path: file), length: .known(size))
        }
        let signed = (signer ?? self.signer).sign(
            method: request.method.rawValue, path: path, query: request.query, headers: headers, payloadSHA256: request.payload.sha256)
        for header in signed { outgoing.headers.add(name: header.name, value: header.value) }
        counts.withLock { $0[request.operation, default: 0] += 1 }
        do {
            return try await http.execute(outgoing, deadline: .distantFuture)
        } catch let error as RegistryError {
            throw error
        } catch {
            throw RegistryError(
                .storage, "cannot reach the S3 endpoint \(s3.endpoint) for \(request.operation) \(target(request)): \(Self.describe(error))",
                cause: error)
        }
    }

    /// The error for an answer outside 2xx: S3's `<Code>` and `<Message>`, the operation, bucket and key.
    func failure(_ request: S3Request, status: HTTPResponseStatus, body: ByteBuffer?) -> RegistryError {
        let text = body.map { String(buffer: $0) } ?? ""
        let code = S3XML.first("Code", in: text[...])
        var detail = "HTTP \(status.code) \(status.reasonPhrase)"
        if let code { detail += ", \(code)" }
        if let message = S3XML.first("Message", in: text[...]) { detail += ": \(message)" }
        let message = "S3 \(request.operation) \(target(request)) at \(s3.endpoint) failed: \(detail)"
        switch (status.code, code) {
        case (401, _), (403, _):
            return RegistryError(
                .unauthenticated,
                message + " (the credentials, access key \(signer.credentials.accessKeyID), were refused or lack permission)")
        default:
            return RegistryError(.storage, message)
        }
    }

    /// What a request is about: `s3://BUCKET/KEY`, or for a listing `s3://BUCKET/PREFIX`.
    private func target(_ request: S3Request) -> String {
        if let path = request.path { return s3.endpoint + path }
        return s3.name(request.key ?? request.query.first { $0.name == "prefix" }?.value ?? "")
    }

    private static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        if text.lowercased().contains("connection refused") { return "connection refused; is the server running and listening there?" }
        return text.hasPrefix("HTTPClientError.") ? String(text.dropFirst("HTTPClientError.".count)) : text
    }

    // MARK: Helpers

    /// Runs `body` on every item, at most ``concurrency`` at a time; the first error cancels the rest.
    private func forEach<Item: Sendable>(_ items: [Item], _ body: @escaping @Sendable (Item) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var pending = items.makeIterator()
            for _ in 0..<concurrency {
                guard let item = pending.next() else { break }
                group.addTask { try await body(item) }
            }
            while try await group.next() != nil {
                if let item = pending.next() { group.addTask { try await body(item) } }
            }
        }
    }

    /// Verifies a download; a mismatch names the objects in the bucket rather than the
    /// temporary directory.
    private func verifyDownload(_ staging: String, hash: String, entries: [TreeHash.Entry]) throws(RegistryError) {
        do {
            try TreeHash.verify(directory: staging, expected: hash, recorded: entries)
        } catch {
            guard error.kind == .hashMismatch else { throw error }
            throw RegistryError(
                .hashMismatch, error.message.replacingOccurrences(of: staging, with: s3.name(s3.key("objects/\(hash)"))), cause: error)
        }
    }

    /// The entries recorded with the cached copy, if any.
    private func cachedManifest(_ hash: String) -> [TreeHash.Entry]? {
        guard let data = FileManager.default.contents(atPath: localManifests + "/" + hash + ".json") else { return nil }
        return try? JSONDecoder().decode([TreeHash.Entry].self, from: data)
    }

    /// Removes the cached copy of `hash`, renaming it away first so that no half-removed tree is
    /// ever found under its hash.
    private func discardCachedCopy(_ hash: String) {
        let fileManager = FileManager.default
        let doomed = localTemporary + "/discarded-" + UUID().uuidString
        try? fileManager.createDirectory(atPath: localTemporary, withIntermediateDirectories: true)
        if rename(localObjects + "/" + hash, doomed) == 0 { try? fileManager.removeItem(atPath: doomed) }
        try? fileManager.removeItem(atPath: localManifests + "/" + hash + ".json")
    }

    /// Whether a manifest path stays inside the artifact: relative, no empty, `.` or `..` segment.
    static func isPlainRelativePath(_ path: String) -> Bool {
        !path.isEmpty && path.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." }
    }
}

extension JSONEncoder {
    /// An encoder with sorted keys, so that the same entries always give the same bytes.
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
