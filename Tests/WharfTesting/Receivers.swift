public import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

// Real receivers for notification tests: an HTTP server for webhooks and python/smtp_sink.py
// (aiosmtpd) for email. Shared by the monitoring tests and the live-server tests.

/// Fails instead of hanging when `body` takes longer than `seconds`.
public func within<T: Sendable>(_ seconds: Double, _ what: String = "operation", _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            return nil
        }
        let first = try await group.next()!
        group.cancelAll()
        guard let value = first else { throw TestTimeout(description: "\(what) took longer than \(seconds) s") }
        return value
    }
}

public struct TestTimeout: Error, CustomStringConvertible {
    public var description: String

    public init(description: String) { self.description = description }
}

/// A loopback TCP port that nothing listens on (bound once by us, then closed).
public func unusedPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    precondition(fd >= 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
            bind(fd, socketAddress, length) == 0 && getsockname(fd, socketAddress, &length) == 0
        }
    }
    precondition(bound)
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A real HTTP server (Hummingbird) on a free loopback port that records every request to
/// `/hook` and answers with the statuses it is told, in turn (200 once the list is used up).
public final class WebhookReceiver: Sendable {
    public struct Received: Sendable {
        public var headers: [String: String]
        public var body: Data
        public var at: ContinuousClock.Instant
    }

    public struct Answer: Sendable {
        public var status: Int
        public var body: String = ""
        public var headers: [String: String] = [:]
        public var delay: Duration = .zero

        public init(status: Int, body: String = "", headers: [String: String] = [:], delay: Duration = .zero) {
            self.status = status
            self.body = body
            self.headers = headers
            self.delay = delay
        }
    }

    public let port: Int
    private let box: StateBox
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    public var url: String { "http://127.0.0.1:\(port)/hook" }
    public var received: [Received] { box.state.withLock { $0.received } }

    /// Starts a receiver that answers with `answers`, in turn.
    public static func start(answers: [Answer] = []) async throws -> WebhookReceiver {
        let box = StateBox(answers: answers)
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }  // lower-case names
            let answer = box.state.withLock { state -> Answer in
                state.received.append(Received(headers: headers, body: Data(body.readableBytesView), at: .now))
                return state.answers.isEmpty ? Answer(status: 200, body: "ok") : state.answers.removeFirst()
            }
            if answer.delay > .zero { try await Task.sleep(for: answer.delay) }
            var fields = HTTPFields()
            for (name, value) in answer.headers { fields[HTTPField.Name(name)!] = value }
            return Response(
                status: HTTPResponse.Status(code: answer.status), headers: fields,
                body: ResponseBody(byteBuffer: ByteBuffer(string: answer.body)))
        }
        var logger = Logger(label: "webhook-receiver")
        logger.logLevel = .critical
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        return WebhookReceiver(port: port, box: box, group: group, task: task)
    }

    private final class StateBox: Sendable {
        let state: Mutex<(received: [Received], answers: [Answer])>
        init(answers: [Answer]) { state = Mutex(([], answers)) }
    }

    private init(port: Int, box: StateBox, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.box = box
        self.group = group
        self.task = task
    }

    /// Stops the server.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}

/// python/smtp_sink.py (aiosmtpd, a real SMTP server) on a free loopback port, run from the
/// repository's .venv (scripts/bootstrap installs aiosmtpd there from python/requirements.txt).
public final class SMTPSink: Sendable {
    /// One message the server accepted.
    public struct Message: Sendable {
        public var from: String
        public var recipients: [String]
        public var tls: Bool
        public var authenticated: Bool
        public var login: String?
        public var content: String

        /// The value of header `name` (first occurrence, unfolded).
        public func header(_ name: String) -> String? {
            let head = content.components(separatedBy: "\r\n\r\n").first ?? content
            var value: String?
            for line in head.components(separatedBy: "\r\n") {
                if value != nil, line.hasPrefix(" ") || line.hasPrefix("\t") {
                    value! += line
                    continue
                }
                if value != nil { break }
                if line.lowercased().hasPrefix(name.lowercased() + ":") {
                    value = String(line.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces)
                }
            }
            return value
        }

        /// The body, after the blank line.
        public var body: String {
            guard let range = content.range(of: "\r\n\r\n") else { return "" }
            return String(content[range.upperBound...])
        }
    }

    public static let python = Fixtures.repositoryRoot.appendingPathComponent(".venv/bin/python").path
    public static let script = Fixtures.repositoryRoot.appendingPathComponent("python/smtp_sink.py").path

    /// Whether .venv has a Python with aiosmtpd.
    public static let available: Bool = {
        guard FileManager.default.isExecutableFile(atPath: python) else { return false }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", "import aiosmtpd"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    /// Whether the openssl command (the sink's certificates) is there too.
    public static let tlsAvailable: Bool = available && ["/usr/bin/openssl", "/usr/local/bin/openssl", "/bin/openssl"].contains {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    public let port: Int
    public let directory: URL
    private let process: Process
    private let input: Pipe

    /// The server's self-signed certificate (with `--starttls` or `--tls`).
    public var certificate: String { directory.appendingPathComponent("cert.pem").path }

    /// Starts the sink with `arguments` (`--starttls`, `--user alice --password x`, `--silent`).
    public static func start(_ arguments: [String] = []) async throws -> SMTPSink {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wharf-smtp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, "--out", directory.path] + arguments
        let output = Pipe(), input = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardInput = input
        process.standardError = errors
        try process.run()
        let reader = output.fileHandleForReading
        let errorReader = errors.fileHandleForReading
        let port: Int
        do {
            port = try await within(30, "starting smtp_sink.py") {
                try await Task.detached {
                    var text = ""
                    while true {
                        let data = reader.availableData
                        if data.isEmpty {
                            let stderr = String(decoding: errorReader.readDataToEndOfFile(), as: UTF8.self)
                            throw TestTimeout(description: "smtp_sink.py exited before it was ready: \(stderr)")
                        }
                        text += String(decoding: data, as: UTF8.self)
                        if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("READY ") }),
                           let port = Int(line.dropFirst(6).trimmingCharacters(in: .whitespaces)) {
                            return port
                        }
                    }
                }.value
            }
        } catch {
            process.terminate()
            throw error
        }
        // Keep stderr drained so that aiosmtpd's warnings never fill the pipe.
        errorReader.readabilityHandler = { handle in _ = handle.availableData }
        return SMTPSink(port: port, directory: directory, process: process, input: input)
    }

    private init(port: Int, directory: URL, process: Process, input: Pipe) {
        self.port = port
        self.directory = directory
        self.process = process
        self.input = input
    }

    /// The messages received so far, in order.
    public func messages() throws -> [Message] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }.sorted()
        return try files.map { file in
            let data = try Data(contentsOf: directory.appendingPathComponent(file))
            let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
            return Message(
                from: object["mail_from"] as? String ?? "",
                recipients: object["rcpt_tos"] as? [String] ?? [],
                tls: object["tls"] as? Bool ?? false,
                authenticated: object["authenticated"] as? Bool ?? false,
                login: object["login"] as? String,
                content: object["content"] as? String ?? "")
        }
    }

    /// Stops the server and removes its files.
    public func stop() {
        try? input.fileHandleForWriting.close()
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }
}
