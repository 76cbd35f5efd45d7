import Foundation
import Testing
import WharfCore
@testable import WharfRegistry
import WharfTesting

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: Signature and location: no server needed

struct S3SignerTests {
    static let credentials = S3Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    /// 2013-05-24T00:00:00Z, the time of the examples.
    static let date = Date(timeIntervalSince1970: 1_369_353_600)
    let signer = S3Signer(credentials: credentials, region: "us-east-1")

    func authorization(_ headers: [(name: String, value: String)]) -> String? {
        headers.first { $0.name == "Authorization" }?.value
    }

    /// The examples of AWS's "Signature Calculations for the Authorization Header: Transferring
    /// Payload in a Single Chunk" (Amazon S3 API reference).
    @Test func signsTheDocumentedExamples() {
        // GET Object with a Range header.
        let get = signer.sign(
            method: "GET", path: "/test.txt",
            headers: [(name: "Host", value: "examplebucket.s3.amazonaws.com"), (name: "Range", value: "bytes=0-9")],
            payloadSHA256: S3Signer.emptyPayloadSHA256, date: Self.date)
        #expect(
            authorization(get)
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        )
        #expect(get.contains { $0.name == "x-amz-date" && $0.value == "20130524T000000Z" })

        // PUT Object: a key that needs encoding, a Date header, a storage class, a real payload.
        let payload = Data("Welcome to Amazon S3.".utf8)
        let put = signer.sign(
            method: "PUT", path: S3Signer.encodePath("/test$file.text"),
            headers: [
                (name: "Host", value: "examplebucket.s3.amazonaws.com"), (name: "Date", value: "Fri, 24 May 2013 00:00:00 GMT"),
                (name: "x-amz-storage-class", value: "REDUCED_REDUNDANCY"),
            ],
            payloadSHA256: "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072", date: Self.date)
        #expect(S3Signer.encodePath("/test$file.text") == "/test%24file.text")
        #expect(S3Payload.data(payload).sha256 == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        #expect(
            authorization(put)
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
        )

        // GET Bucket (list objects) with query parameters, given out of order.
        let list = signer.sign(
            method: "GET", path: "/", query: [(name: "prefix", value: "J"), (name: "max-keys", value: "2")],
            headers: [(name: "Host", value: "examplebucket.s3.amazonaws.com")],
            payloadSHA256: S3Signer.emptyPayloadSHA256, date: Self.date)
        #expect(authorization(list)?.hasSuffix("Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7") == true)
        #expect(S3Signer.canonicalQuery([(name: "prefix", value: "J"), (name: "max-keys", value: "2")]) == "max-keys=2&prefix=J")
    }

    @Test func encodesLikeSigV4() {
        #expect(S3Signer.encode("a b/c~d_e.f-g+h=é") == "a%20b%2Fc~d_e.f-g%2Bh%3D%C3%A9")
        #expect(S3Signer.encodePath("/bucket/dir/a b+c.txt") == "/bucket/dir/a%20b%2Bc.txt")
    }

    @Test func sendsTheSessionToken() {
        var credentials = Self.credentials
        credentials.sessionToken = "TOKEN"
        let headers = S3Signer(credentials: credentials, region: "eu-west-1").sign(
            method: "GET", path: "/", headers: [(name: "host", value: "h")], payloadSHA256: S3Signer.emptyPayloadSHA256, date: Self.date)
        #expect(headers.contains { $0.name == "x-amz-security-token" && $0.value == "TOKEN" })
        #expect(authorization(headers)?.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,") == true)
        #expect(authorization(headers)?.contains("/20130524/eu-west-1/s3/aws4_request") == true)
        #expect(!"\(credentials)".contains("wJalrXUtnFEMI"), "the secret never shows")
    }
}

struct S3LocationTests {
    @Test func parsesURLs() throws {
        let local = try S3Location(url: "s3://models/team/prod/?endpoint=http://127.0.0.1:9000&region=eu-west-1")
        #expect(local.bucket == "models")
        #expect(local.prefix == "team/prod")
        #expect(local.region == "eu-west-1")
        #expect(local.endpoint == "http://127.0.0.1:9000")
        #expect(local.hostHeader == "127.0.0.1:9000")
        #expect(try S3Location(url: local.description) == local)

        let aws = try S3Location(url: "s3://my.bucket-1", environment: ["AWS_REGION": "ap-south-1"])
        #expect(aws.prefix == "")
        #expect(aws.endpoint == "https://s3.ap-south-1.amazonaws.com")
        #expect(aws.hostHeader == "s3.ap-south-1.amazonaws.com")
        #expect(aws.key("manifests/x.json") == "manifests/x.json")
        #expect(try S3Location(url: "s3://b12", environment: [:]).region == "us-east-1")
    }

    @Test(arguments: [
        ("http://bucket/prefix", "is not an S3 location"),
        ("s3://", "is not an S3 bucket name"),
        ("s3://My_Bucket/x", "is not an S3 bucket name"),
        ("s3://bucket/a//b", "is not a usable key prefix"),
        ("s3://bucket/a/../b", "is not a usable key prefix"),
        ("s3://bucket/x?endpont=http://h", "unknown parameter 'endpont'"),
        ("s3://bucket/x?region=us-east-1&region=eu-west-1", "given twice"),
        ("s3://bucket/x?endpoint=ftp://h:21", "endpoint 'ftp://h:21' is not usable"),
        ("s3://bucket/x?endpoint=http://h:9000/path", "without a path"),
        ("s3://bucket/x?region=US_EAST", "is not an AWS region name"),
    ])
    func refusesBadURLs(url: String, expected: String) {
        #expect {
            _ = try S3Location(url: url, environment: [:])
        } throws: { error in
            let error = error as? RegistryError
            return error?.kind == .invalidArgument && error?.message.contains(expected) == true && error?.message.contains("expected") == true
        }
    }

    @Test func needsCredentials() {
        #expect(throws: RegistryError.self) { try S3Credentials.fromEnvironment([:]) }
        let credentials = try? S3Credentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "AWS_SESSION_TOKEN": "c"])
        #expect(credentials == S3Credentials(accessKeyID: "a", secretAccessKey: "b", sessionToken: "c"))
    }
}

// MARK: Against a real S3-compatible server

/// A `moto_server` from the project's `.venv` on a free port, for one test. It starts without
/// authentication, gets an IAM user with an access key allowed `s3:*` and a bucket, and then
/// enforces authentication, so every request the store sends must carry a valid signature.
final class MotoServer {
    static let executable = Fixtures.repositoryRoot.appendingPathComponent(".venv/bin/moto_server").path
    static var available: Bool { FileManager.default.isExecutableFile(atPath: executable) }

    let process: Process
    let port: Int
    let log: URL
    let bucket = "wharf-test"
    private(set) var credentials = S3Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "unused-before-auth")

    var endpoint: String { "http://127.0.0.1:\(port)" }
    func url(prefix: String = "artifacts") -> String { "s3://\(bucket)/\(prefix)?endpoint=\(endpoint)&region=us-east-1" }

    private init(process: Process, port: Int, log: URL) {
        self.process = process
        self.port = port
        self.log = log
    }

    static func start() async throws -> MotoServer {
        let port = try freePort()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("wharf-moto-\(port)-\(UUID().uuidString).log")
        guard FileManager.default.createFile(atPath: log.path, contents: nil) else {
            throw RegistryError(.storage, "cannot create \(log.path)")
        }
        let output = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-H", "127.0.0.1", "-p", String(port)]
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let server = MotoServer(process: process, port: port, log: log)
        do {
            try await server.setUp()
        } catch {
            server.stop()
            throw error
        }
        return server
    }

    func stop() {
        // SIGKILL, not terminate(): the child inherits the test process's blocked-signal mask,
        // SIGTERM included, so moto_server would never see a SIGTERM.
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: log)
    }

    private var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    private func setUp() async throws {
        let admin = try S3ArtifactStore(url: url(), credentials: credentials, cacheDirectory: "/nonexistent")
        do {
            // Wait until it answers.
            let deadline = ContinuousClock.now + .seconds(60)
            while true {
                if (try? await admin.send(S3Request(method: .GET, operation: "moto-api", path: "/moto-api/data.json"))) != nil { break }
                guard process.isRunning, ContinuousClock.now < deadline else {
                    throw RegistryError(.storage, "moto_server did not start on port \(port): \(logText)")
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            let iam = S3Signer(credentials: credentials, region: "us-east-1", service: "iam")
            func callIAM(_ parameters: [(name: String, value: String)]) async throws -> String {
                let form = S3Signer.canonicalQuery(parameters + [(name: "Version", value: "2010-05-08")])
                let request = S3Request(
                    method: .POST, operation: "IAM", headers: [(name: "content-type", value: "application/x-www-form-urlencoded; charset=utf-8")],
                    payload: .data(Data(form.utf8)), path: "/")
                return try await admin.send(request, signer: iam).text
            }
            _ = try await callIAM([(name: "Action", value: "CreateUser"), (name: "UserName", value: "wharf")])
            let key = try await callIAM([(name: "Action", value: "CreateAccessKey"), (name: "UserName", value: "wharf")])
            guard let id = S3XML.first("AccessKeyId", in: key[...]), let secret = S3XML.first("SecretAccessKey", in: key[...]) else {
                throw RegistryError(.storage, "CreateAccessKey answered \(key)")
            }
            credentials = S3Credentials(accessKeyID: id, secretAccessKey: secret)
            _ = try await callIAM([
                (name: "Action", value: "PutUserPolicy"), (name: "UserName", value: "wharf"), (name: "PolicyName", value: "s3"),
                (name: "PolicyDocument", value: #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#),
            ])
            // From now on every request must be signed with a known key.
            _ = try await admin.send(
                S3Request(method: .POST, operation: "reset-auth", payload: .data(Data("0".utf8)), path: "/moto-api/reset-auth"))
            await admin.close()
        } catch {
            await admin.close()
            throw error
        }
        try await withStore { store in
            _ = try await store.send(S3Request(method: .PUT, operation: "CreateBucket", key: nil))
        }
    }

    /// Runs `body` with a store on this server (a fresh cache directory), shutting it down after.
    func withStore(
        prefix: String = "artifacts", credentials: S3Credentials? = nil, leftoverAge: Duration = .zero,
        _ body: (S3ArtifactStore) async throws -> Void
    ) async throws {
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("wharf-s3-cache-\(UUID().uuidString)").path
        let store = try S3ArtifactStore(url: url(prefix: prefix), credentials: credentials ?? self.credentials, cacheDirectory: cache, leftoverAge: leftoverAge)
        defer { try? FileManager.default.removeItem(atPath: cache) }
        do {
            try await body(store)
            await store.close()
        } catch {
            await store.close()
            throw error
        }
    }

    /// A TCP port nothing listens on (bound once by the kernel's choice, then released).
    static func freePort() throws -> Int {
        #if canImport(Glibc)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw RegistryError(.storage, "socket: \(errno)") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw RegistryError(.storage, "bind: \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else { throw RegistryError(.storage, "getsockname: \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Runs `body` with a fresh moto server, stopping it after.
func withMoto(_ body: (MotoServer) async throws -> Void) async throws {
    let server = try await MotoServer.start()
    do {
        try await body(server)
        server.stop()
    } catch {
        server.stop()
        throw error
    }
}

/// A directory tree to store: nested directories, an empty file, a 3 MiB file, awkward names.
final class SampleTree {
    let root: URL
    let big: Data

    init(seed: UInt8 = 1) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("wharf-s3-tree-\(UUID().uuidString)")
        var generator = SeededGenerator(seed: UInt64(seed))
        big = Data((0..<(3 << 20)).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
        try write("saved_model.pb", Data("graph \(seed)".utf8))
        try write("variables/variables.data-00000-of-00001", big)
        try write("variables/variables.index", Data("index".utf8))
        try write("assets/empty.txt", Data())
        try write("assets/deeper/still deeper/vocab +1 (é).txt", Data("a\nb\nc\n".utf8))
        try FileManager.default.createDirectory(at: root.appendingPathComponent("empty-dir"), withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    var path: String { root.path }

    func write(_ relative: String, _ data: Data) throws {
        let url = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
    }
}

@Suite(.enabled(if: MotoServer.available, "needs .venv/bin/moto_server: run scripts/bootstrap"))
struct S3ArtifactStoreTests {
    /// Closing a registry closes its S3 store's HTTP client: a debug build stops with "Client not
    /// shut down before the deinit" when the client is released open, which ended every
    /// `wharf versions push` with an S3 artifact store in a crash.
    @Test func closingTheRegistryClosesItsS3Store() async throws {
        try await withMoto { moto in
            let cache = FileManager.default.temporaryDirectory.appendingPathComponent("wharf-s3-cache-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: cache) }
            let store = try S3ArtifactStore(url: moto.url(prefix: "closing"), credentials: moto.credentials, cacheDirectory: cache)
            let registry = Registry(store: RegistryStore(backend: try SQLiteBackend(path: cache + "/registry.sqlite")), artifacts: store)
            #expect(try await store.list() == [])
            await registry.close()
            await #expect(throws: (any Error).self) { try await store.list() }
            await store.close()  // a second close is harmless; without the fix this one closes it
        }
    }

    @Test func storesAndMaterializesATree() async throws {
        let tree = try SampleTree()
        try await withMoto { moto in
            try await moto.withStore { store in
                let stored = try await store.put(directory: tree.path)
                #expect(stored.hash == (try TreeHash.of(directory: tree.path)).hash)
                #expect(stored.entries.count == 5)
                #expect(try await store.contains(hash: stored.hash))
                #expect(try await store.list() == [stored.hash])

                let path = try await store.materialize(hash: stored.hash)
                #expect(path == store.cacheDirectory + "/objects/" + stored.hash)
                #expect(try TreeHash.of(directory: path) == stored)
                #expect(FileManager.default.contents(atPath: path + "/variables/variables.data-00000-of-00001") == tree.big)
                #expect(FileManager.default.contents(atPath: path + "/assets/empty.txt") == Data())

                // The cached copy is verified, not downloaded again.
                let downloads = store.requestCounts["GET object"]
                #expect(downloads == 5)
                #expect(try await store.materialize(hash: stored.hash) == path)
                #expect(store.requestCounts["GET object"] == downloads)

                // The layout in the bucket.
                let keys = try await store.listObjects(prefix: "artifacts/").objects.map(\.key).sorted()
                #expect(keys.contains("artifacts/manifests/\(stored.hash).json"))
                #expect(keys.contains("artifacts/objects/\(stored.hash)/assets/deeper/still deeper/vocab +1 (é).txt"))
                #expect(keys.count == 6)
                // Continuation tokens: two keys a page.
                #expect(try await store.listObjects(prefix: "artifacts/objects/", pageSize: 2).objects.count == 5)
            }
            // Another store (another cache) on the same bucket and prefix sees it; another prefix does not.
            try await moto.withStore { store in
                let hashes = try await store.list()
                #expect(hashes.count == 1)
            }
            try await moto.withStore(prefix: "elsewhere") { store in
                let hashes = try await store.list()
                #expect(hashes.isEmpty)
            }
        }
    }

    @Test func storesIdenticalTreesOnce() async throws {
        let tree = try SampleTree()
        let other = try SampleTree(seed: 2)
        try await withMoto { moto in
            try await moto.withStore { store in
                let first = try await store.put(directory: tree.path)
                let uploads = store.requestCounts["PUT object"]
                #expect(uploads == 5, "the empty file is sent too, without a body")
                #expect(store.requestCounts["PUT manifest"] == 1)
                let second = try await store.put(directory: tree.path)
                #expect(second == first)
                #expect(store.requestCounts["PUT object"] == uploads)
                #expect(store.requestCounts["PUT manifest"] == 1)
                let third = try await store.put(directory: other.path)
                #expect(third.hash != first.hash)
                #expect(try await store.list() == [first.hash, third.hash].sorted())
            }
        }
    }

    @Test func detectsATamperedObject() async throws {
        let tree = try SampleTree()
        try await withMoto { moto in
            try await moto.withStore { store in
                let stored = try await store.put(directory: tree.path)
                // One byte changed in the bucket.
                var changed = tree.big
                changed[1000] ^= 0xff
                _ = try await store.send(
                    S3Request(
                        method: .PUT, operation: "tamper", key: "artifacts/objects/\(stored.hash)/variables/variables.data-00000-of-00001",
                        payload: .data(changed)))
                try? FileManager.default.removeItem(atPath: store.cacheDirectory)
                await #expect {
                    _ = try await store.materialize(hash: stored.hash)
                } throws: { error in
                    let error = error as? RegistryError
                    return error?.kind == .hashMismatch && error?.message.contains("variables/variables.data-00000-of-00001") == true
                        && error?.message.contains("s3://wharf-test/artifacts/objects/\(stored.hash)") == true
                }
                // Nothing unverified is left in the cache.
                #expect(!FileManager.default.fileExists(atPath: store.cacheDirectory + "/objects/" + stored.hash))
                #expect(((try? FileManager.default.contentsOfDirectory(atPath: store.cacheDirectory + "/tmp")) ?? []).isEmpty)
            }
        }
    }

    @Test func replacesADamagedCachedCopy() async throws {
        let tree = try SampleTree()
        try await withMoto { moto in
            try await moto.withStore { store in
                let stored = try await store.put(directory: tree.path)
                let path = try await store.materialize(hash: stored.hash)
                try Data("changed".utf8).write(to: URL(fileURLWithPath: path + "/saved_model.pb"))
                #expect(try await store.materialize(hash: stored.hash) == path)
                #expect(try TreeHash.of(directory: path).hash == stored.hash)
            }
        }
    }

    @Test func hidesAndRemovesAnInterruptedPut() async throws {
        let tree = try SampleTree()
        let complete = try SampleTree(seed: 3)
        try await withMoto { moto in
            try await moto.withStore { store in
                let kept = try await store.put(directory: complete.path)
                // A put that died before its manifest: the objects only.
                let partial = try TreeHash.of(directory: tree.path)
                try await store.uploadObjects(partial, from: tree.path)
                #expect(try await store.list() == [kept.hash])
                #expect(try await store.contains(hash: partial.hash) == false)
                await #expect {
                    _ = try await store.materialize(hash: partial.hash)
                } throws: { error in
                    let error = error as? RegistryError
                    return error?.kind == .artifactMissing
                        && error?.message.contains("s3://wharf-test/artifacts/manifests/\(partial.hash).json") == true
                }
                // Recent objects may be a put under way: a store with the default age leaves them.
                try await moto.withStore(leftoverAge: .seconds(3600)) { careful in
                    let removed = try await careful.removeLeftovers()
                    #expect(removed == 0)
                }
                #expect(try await store.listObjects(prefix: "artifacts/objects/\(partial.hash)/").objects.count == 5)

                // A download that died left its temporary directory in the cache.
                let deadDownload = store.cacheDirectory + "/tmp/" + UUID().uuidString
                try FileManager.default.createDirectory(atPath: deadDownload + "/variables", withIntermediateDirectories: true)
                #expect(try await store.removeLeftovers() == 2)
                #expect(!FileManager.default.fileExists(atPath: deadDownload))
                #expect(try await store.listObjects(prefix: "artifacts/objects/\(partial.hash)/").objects.isEmpty)
                #expect(try await store.removeLeftovers() == 0)
                #expect(try await store.list() == [kept.hash])
                #expect(try TreeHash.of(directory: try await store.materialize(hash: kept.hash)) == kept)
            }
        }
    }

    @Test func deletesManifestAndObjects() async throws {
        let tree = try SampleTree()
        let other = try SampleTree(seed: 4)
        try await withMoto { moto in
            try await moto.withStore { store in
                let doomed = try await store.put(directory: tree.path)
                let kept = try await store.put(directory: other.path)
                _ = try await store.materialize(hash: doomed.hash)
                try await store.delete(hash: doomed.hash)
                #expect(try await store.list() == [kept.hash])
                #expect(try await store.contains(hash: doomed.hash) == false)
                #expect(try await store.listObjects(prefix: "artifacts/objects/\(doomed.hash)/").objects.isEmpty)
                #expect(!FileManager.default.fileExists(atPath: store.cacheDirectory + "/objects/" + doomed.hash))
                await #expect(throws: RegistryError.self) { try await store.materialize(hash: doomed.hash) }
                #expect(try TreeHash.of(directory: try await store.materialize(hash: kept.hash)) == kept)
                // Deleting what is not there is no error; a malformed hash is.
                try await store.delete(hash: doomed.hash)
                await #expect {
                    try await store.delete(hash: "../../etc")
                } throws: { ($0 as? RegistryError)?.kind == .invalidArgument }
            }
        }
    }

    @Test func explainsRefusedCredentials() async throws {
        try await withMoto { moto in
            let unknown = S3Credentials(accessKeyID: "AKIAUNKNOWNKEY000000", secretAccessKey: "whatever")
            try await moto.withStore(credentials: unknown) { store in
                await #expect {
                    _ = try await store.list()
                } throws: { error in
                    let error = error as? RegistryError
                    return error?.kind == .unauthenticated && error?.message.contains("InvalidAccessKeyId") == true
                        && error?.message.contains("ListObjectsV2 s3://wharf-test/") == true
                        && error?.message.contains(moto.endpoint) == true
                }
            }
            var wrongSecret = moto.credentials
            wrongSecret.secretAccessKey += "x"
            try await moto.withStore(credentials: wrongSecret) { store in
                await #expect {
                    _ = try await store.contains(hash: String(repeating: "a", count: 64))
                } throws: { error in
                    let error = error as? RegistryError
                    return error?.kind == .unauthenticated && error?.message.contains("SignatureDoesNotMatch") == true
                        && error?.message.contains("GET manifest s3://wharf-test/artifacts/manifests/aaaa") == true
                }
            }
            // A bucket that does not exist: S3's code and message.
            let cache = FileManager.default.temporaryDirectory.appendingPathComponent("wharf-s3-cache-\(UUID().uuidString)").path
            let missing = try S3ArtifactStore(
                url: "s3://no-such-bucket/x?endpoint=\(moto.endpoint)", credentials: moto.credentials, cacheDirectory: cache)
            await #expect {
                _ = try await missing.list()
            } throws: { error in
                let error = error as? RegistryError
                return error?.kind == .storage && error?.message.contains("NoSuchBucket") == true
                    && error?.message.contains("s3://no-such-bucket/") == true
            }
            await missing.close()
        }
    }
}

/// Needs no server: nothing listens on the port.
struct S3UnreachableTests {
    @Test func namesAnUnreachableEndpoint() async throws {
        let port = try MotoServer.freePort()
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("wharf-s3-cache-\(UUID().uuidString)").path
        let store = try S3ArtifactStore(
            url: "s3://bucket/p?endpoint=http://127.0.0.1:\(port)",
            credentials: S3Credentials(accessKeyID: "a", secretAccessKey: "b"), cacheDirectory: cache)
        await #expect {
            _ = try await store.list()
        } throws: { error in
            let error = error as? RegistryError
            return error?.kind == .storage && error?.message.contains("cannot reach the S3 endpoint http://127.0.0.1:\(port)") == true
                && error?.message.contains("connection refused") == true
        }
        await store.close()
    }
}
