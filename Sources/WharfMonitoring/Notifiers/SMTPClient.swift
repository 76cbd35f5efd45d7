import Foundation
public import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// One reply of an SMTP server: a three-digit code and one or more lines of text.
public struct SMTPReply: Sendable, Hashable, CustomStringConvertible {
    /// The reply code (`250`, `535`).
    public var code: Int
    /// The text of each line, without the code and the separator.
    public var lines: [String]

    /// A reply.
    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    /// `535 5.7.8 Authentication credentials invalid`: the code and the lines' text.
    public var description: String {
        let text = lines.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
        return text.isEmpty ? String(code) : "\(code) \(text)"
    }

    /// 2xx.
    var isPositive: Bool { (200..<300).contains(code) }
}

/// Why mail could not be submitted. `description` names the server (`host:port`) and, when the
/// server refused something, its reply.
public struct SMTPError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure.
    public enum Kind: Sendable, Hashable {
        /// No connection (refused, unresolvable host, connect timeout).
        case connectionFailed
        /// The server did not answer in time.
        case timedOut
        /// The server closed the connection or it broke.
        case connectionClosed
        /// The TLS handshake failed (certificate not trusted, wrong name, no TLS).
        case tlsFailed
        /// The server answered a command with an error reply (``SMTPError/reply``).
        case rejected
        /// The server lacks something the configuration needs (STARTTLS, AUTH, a mechanism).
        case unsupported
        /// The configuration is unusable (a CA file that cannot be read, no recipient).
        case invalidConfiguration
        /// The server's replies make no sense.
        case protocolViolation
    }

    /// What kind of failure.
    public var kind: Kind
    /// The server's reply, when it refused something.
    public var reply: SMTPReply?
    /// A sentence for people.
    public var description: String

    /// An error.
    public init(_ kind: Kind, _ description: String, reply: SMTPReply? = nil) {
        self.kind = kind
        self.description = description
        self.reply = reply
    }
}

/// A minimal SMTP submission client on SwiftNIO: one connection per message, with EHLO, optional
/// STARTTLS or implicit TLS, AUTH PLAIN or LOGIN, MAIL FROM, RCPT TO, DATA (dot-stuffed) and QUIT.
public struct SMTPClient: Sendable {
    /// Where and how to connect, and who logs in.
    public let configuration: SMTPConfiguration
    private let group: any EventLoopGroup

    /// A client; by default on NIO's shared event loops.
    public init(configuration: SMTPConfiguration, eventLoopGroup: (any EventLoopGroup)? = nil) {
        self.configuration = configuration
        self.group = eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton
    }

    /// Submits `message` (a complete RFC 5322 message: headers, blank line, body; line breaks LF or
    /// CRLF) for the envelope sender `from` and the recipients `to` (bare addresses).
    public func send(message: String, from: String, to recipients: [String]) async throws {
        guard !recipients.isEmpty else {
            throw SMTPError(.invalidConfiguration, "no recipients to send the mail to")
        }
        for address in [from] + recipients where address.contains(where: { "\r\n<>".contains($0) }) || address.isEmpty {
            throw SMTPError(.invalidConfiguration, "'\(address)' is not a mail address")
        }
        let config = configuration
        let endpoint = config.endpoint
        let tlsContext: NIOSSLContext? = config.security == .none ? nil : try SMTPClient.makeTLSContext(config.certificateVerification)
        let serverName = SMTPClient.isIPAddress(config.host) ? nil : config.host

        let channel: NIOAsyncChannel<SMTPReply, ByteBuffer>
        do {
            let implicitTLS = config.security == .tls ? tlsContext : nil
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(TimeAmount(config.timeout))
                .connect(host: config.host, port: config.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let implicitTLS {
                            try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: implicitTLS, serverHostname: serverName))
                        }
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMTPReplyDecoder()))
                        return try NIOAsyncChannel<SMTPReply, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw SMTPError(.connectionFailed, "could not connect to SMTP server \(endpoint): \(SMTPClient.describe(error))")
        }

        try await channel.executeThenClose { inbound, outbound in
            var session = SMTPConversation(
                channel: channel.channel, replies: inbound.makeAsyncIterator(), outbound: outbound,
                endpoint: endpoint, timeout: config.timeout)

            let greeting = try await session.next("the greeting")
            guard greeting.code == 220 else {
                throw SMTPError(.rejected, "SMTP server \(endpoint) refused the session: \(greeting)", reply: greeting)
            }
            var extensions = try await session.hello(config.clientName)

            if config.security == .startTLS, let tlsContext {
                guard extensions["STARTTLS"] != nil else {
                    throw SMTPError(.unsupported, "SMTP server \(endpoint) does not offer STARTTLS, which the configuration requires")
                }
                try await session.command("STARTTLS", expecting: { $0.code == 220 })
                let rawChannel = channel.channel
                try await rawChannel.eventLoop.submit {
                    let handler = try NIOSSLClientHandler(context: tlsContext, serverHostname: serverName)
                    try rawChannel.pipeline.syncOperations.addHandler(handler, position: .first)
                }.get()
                extensions = try await session.hello(config.clientName)
            }

            if let username = config.username {
                try await session.authenticate(
                    username: username, password: config.password ?? "", mechanism: config.authMechanism, extensions: extensions)
            }

            try await session.command("MAIL FROM:<\(from)>", expecting: \.isPositive)
            for recipient in recipients {
                try await session.command("RCPT TO:<\(recipient)>", expecting: \.isPositive)
            }
            try await session.command("DATA", expecting: { $0.code == 354 })
            try await session.write(SMTPClient.dataPayload(message))
            try await session.expect("the message", \.isPositive)
            await session.quit()
        }
    }

    /// The DATA section of `message`: lines ending in CRLF, lines that start with "." given a second
    /// one (RFC 5321 §4.5.2), and the final `.` line.
    static func dataPayload(_ message: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(message.utf8.count + 64)
        var lineStart = true
        var previousCR = false
        for byte in message.utf8 {
            if byte == UInt8(ascii: "\n") {
                if !previousCR { buffer.writeStaticString("\r\n") }
                previousCR = false
                lineStart = true
                continue
            }
            if byte == UInt8(ascii: "\r") {
                buffer.writeStaticString("\r\n")
                previousCR = true
                lineStart = true
                continue
            }
            previousCR = false
            if lineStart && byte == UInt8(ascii: ".") { buffer.writeInteger(UInt8(ascii: ".")) }
            lineStart = false
            buffer.writeInteger(byte)
        }
        if !lineStart { buffer.writeStaticString("\r\n") }
        buffer.writeStaticString(".\r\n")
        return buffer
    }

    static func makeTLSContext(_ verification: SMTPConfiguration.CertificateVerification) throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch verification {
        case .system:
            break
        case .trustCAFile(let path):
            do {
                let certificates = try NIOSSLCertificate.fromPEMFile(path)
                guard !certificates.isEmpty else { throw SMTPError(.invalidConfiguration, "no certificate in it") }
                tls.trustRoots = .certificates(certificates)
            } catch {
                throw SMTPError(.invalidConfiguration, "could not read the CA certificates in '\(path)': \(error)")
            }
        case .skip:
            tls.certificateVerification = .none
        }
        do {
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw SMTPError(.invalidConfiguration, "could not set up TLS: \(error)")
        }
    }

    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    /// A readable reason for a connection error.
    static func describe(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError {
            let reasons = error.connectionErrors.map { describe($0.error) }
            if let dns = error.dnsAAAAError ?? error.dnsAError, reasons.isEmpty { return "cannot resolve \(error.host): \(dns)" }
            return reasons.isEmpty ? "\(error)" : Array(Set(reasons)).sorted().joined(separator: "; ")
        }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED: return "connection refused"
            case ETIMEDOUT: return "connection timed out"
            case ENETUNREACH, EHOSTUNREACH: return "no route to host"
            default: return "\(error)"
            }
        }
        if let error = error as? ChannelError, case .connectTimeout = error { return "connection timed out" }
        if let error = error as? SMTPError { return error.description }
        return "\(error)"
    }
}

/// Set by a timer, read by the task that armed it.
final class ExpiryFlag: Sendable {
    private let state = Mutex(false)
    func set() { state.withLock { $0 = true } }
    var isSet: Bool { state.withLock { $0 } }
}

/// The client's side of one SMTP connection: commands out, replies in, each reply awaited for at
/// most `timeout` (a timer closes the connection when it passes).
struct SMTPConversation {
    let channel: any Channel
    var replies: NIOAsyncChannelInboundStream<SMTPReply>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    let endpoint: String
    let timeout: Duration

    /// Sends `line` and CRLF. `shown` replaces the line in error messages (for secrets).
    mutating func command(_ line: String, shown: String? = nil, expecting accept: (SMTPReply) -> Bool) async throws {
        try await send(line, shown: shown)
        try await expect(shown ?? line, accept)
    }

    mutating func send(_ line: String, shown: String? = nil) async throws {
        var buffer = ByteBuffer()
        buffer.writeString(line)
        buffer.writeStaticString("\r\n")
        try await write(buffer, what: shown ?? line)
    }

    mutating func write(_ buffer: ByteBuffer, what: String = "the message") async throws {
        do {
            try await outbound.write(buffer)
        } catch {
            // The connection is gone. The inbound side may know why (a failed TLS handshake closes
            // the channel before the write gets through): that is the better error.
            do {
                _ = try await next(what)
            } catch let cause as SMTPError where cause.kind == .tlsFailed {
                throw cause
            } catch {}
            throw SMTPError(.connectionClosed, "SMTP server \(endpoint): the connection broke while sending \(what): \(SMTPClient.describe(error))")
        }
    }

    /// Reads the next reply and throws unless `accept` takes it.
    @discardableResult
    mutating func expect(_ what: String, _ accept: (SMTPReply) -> Bool) async throws -> SMTPReply {
        let reply = try await next(what)
        guard accept(reply) else {
            throw SMTPError(.rejected, "SMTP server \(endpoint) rejected \(what): \(reply)", reply: reply)
        }
        return reply
    }

    /// The next reply, the answer to `what`.
    mutating func next(_ what: String) async throws -> SMTPReply {
        let expired = ExpiryFlag()
        let channel = self.channel
        let timer = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            expired.set()
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        let waited = "\(what) within \(timeout)"
        do {
            if let reply = try await replies.next() { return reply }
        } catch let error as SMTPError {
            throw error
        } catch {
            if expired.isSet { throw SMTPError(.timedOut, "SMTP server \(endpoint) did not answer \(waited)") }
            if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError {
                throw SMTPError(.tlsFailed, "TLS with SMTP server \(endpoint) failed: \(error)")
            }
            throw SMTPError(.connectionClosed, "SMTP server \(endpoint): the connection broke while waiting for the answer to \(what): \(SMTPClient.describe(error))")
        }
        if expired.isSet { throw SMTPError(.timedOut, "SMTP server \(endpoint) did not answer \(waited)") }
        throw SMTPError(.connectionClosed, "SMTP server \(endpoint) closed the connection instead of answering \(what)")
    }

    /// EHLO (HELO when the server does not know EHLO); the extensions the server offers, by
    /// upper-case keyword, with their parameters.
    mutating func hello(_ name: String) async throws -> [String: [String]] {
        try await send("EHLO \(name)")
        let reply = try await next("EHLO")
        if reply.isPositive {
            var extensions: [String: [String]] = [:]
            for line in reply.lines.dropFirst() {
                let words = line.split(whereSeparator: { $0 == " " || $0 == "=" }).map(String.init)
                guard let keyword = words.first?.uppercased() else { continue }
                extensions[keyword, default: []].append(contentsOf: words.dropFirst())
            }
            return extensions
        }
        guard (500..<600).contains(reply.code) else {
            throw SMTPError(.rejected, "SMTP server \(endpoint) rejected EHLO: \(reply)", reply: reply)
        }
        try await command("HELO \(name)", expecting: \.isPositive)
        return [:]
    }

    mutating func authenticate(
        username: String, password: String, mechanism: SMTPConfiguration.AuthMechanism, extensions: [String: [String]]
    ) async throws {
        guard let offered = extensions["AUTH"].map({ Set($0.map { $0.uppercased() }) }) else {
            throw SMTPError(
                .unsupported,
                "SMTP server \(endpoint) does not offer AUTH" + (extensions["STARTTLS"] != nil ? " before STARTTLS (set security to .startTLS)" : ""))
        }
        let chosen: SMTPConfiguration.AuthMechanism
        switch mechanism {
        case .automatic:
            if offered.contains("PLAIN") {
                chosen = .plain
            } else if offered.contains("LOGIN") {
                chosen = .login
            } else {
                throw SMTPError(.unsupported, "SMTP server \(endpoint) offers AUTH \(offered.sorted().joined(separator: " ")), none of PLAIN and LOGIN")
            }
        case .plain, .login:
            let keyword = mechanism == .plain ? "PLAIN" : "LOGIN"
            guard offered.contains(keyword) else {
                throw SMTPError(.unsupported, "SMTP server \(endpoint) does not offer AUTH \(keyword) (it offers \(offered.sorted().joined(separator: " ")))")
            }
            chosen = mechanism
        }
        func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
        let accepted: (SMTPReply) -> Bool = { $0.code == 235 }
        if chosen == .plain {
            try await command("AUTH PLAIN " + base64("\u{0}\(username)\u{0}\(password)"), shown: "AUTH", expecting: accepted)
        } else {
            try await command("AUTH LOGIN", shown: "AUTH", expecting: { $0.code == 334 })
            try await command(base64(username), shown: "AUTH", expecting: { $0.code == 334 })
            try await command(base64(password), shown: "AUTH", expecting: accepted)
        }
    }

    /// QUIT, without caring about the answer: the mail is accepted already.
    mutating func quit() async {
        do {
            try await send("QUIT")
            _ = try await next("QUIT")
        } catch {}
    }
}

/// Splits the byte stream from an SMTP server into replies: lines `250-text` continue a reply,
/// `250 text` (or `250`) ends it (RFC 5321 §4.2.1).
struct SMTPReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = SMTPReply

    private var code: Int?
    private var lines: [String] = []

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > 64 * 1024 {
                throw SMTPError(.protocolViolation, "SMTP server sent a line longer than 64 KiB")
            }
            return .needMoreData
        }
        let length = newline - buffer.readerIndex
        var line = buffer.readString(length: length)!
        buffer.moveReaderIndex(forwardBy: 1)
        if line.hasSuffix("\r") { line.removeLast() }

        let bytes = Array(line.utf8)
        guard bytes.count >= 3, bytes[0...2].allSatisfy({ $0 >= 48 && $0 <= 57 }),
              bytes.count == 3 || bytes[3] == UInt8(ascii: " ") || bytes[3] == UInt8(ascii: "-")
        else {
            throw SMTPError(.protocolViolation, "SMTP server sent '\(line.prefix(100))', not a reply line")
        }
        let lineCode = Int(String(decoding: bytes[0...2], as: UTF8.self))!
        if let code, code != lineCode {
            throw SMTPError(.protocolViolation, "SMTP server changed the reply code from \(code) to \(lineCode) within one reply")
        }
        code = lineCode
        lines.append(bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : "")
        if bytes.count == 3 || bytes[3] == UInt8(ascii: " ") {
            let reply = SMTPReply(code: lineCode, lines: lines)
            code = nil
            lines = []
            context.fireChannelRead(wrapInboundOut(reply))
        }
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
