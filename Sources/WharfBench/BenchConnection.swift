import NIOCore
import NIOPosix
import WharfProtocols

/// One HTTP/1.1 keep-alive connection of the benchmark's own client, on one event loop, with at
/// most one request outstanding.
///
/// A request is its pre-encoded bytes (head and body, `BenchEndpoint.encode`), written in one
/// write; the answer is parsed by `HTTPResponseParser` in the channel's handler, which calls the
/// request's completion right there on the event loop, so a closed-loop worker can send its next
/// request without leaving the loop. The connection opens on the first request, and again after
/// the server closed it or a request failed.
///
/// Every method must be called on `eventLoop`.
final class BenchConnection: @unchecked Sendable {
    // @unchecked Sendable: all mutable state is touched only on `eventLoop`.
    let eventLoop: any EventLoop
    private let endpoint: BenchEndpoint
    private let timeout: TimeAmount

    private struct Pending {
        let request: ByteBuffer
        let completion: (BenchClient.Outcome) -> Void
        var deadline: NIODeadline?
    }

    /// The handler of the open (or opening) channel.
    private var handler: Handler?
    private var connecting = false
    private var pending: Pending?
    private var timer: Scheduled<Void>?
    private var closed = false

    init(eventLoop: any EventLoop, endpoint: BenchEndpoint, timeout: TimeAmount) {
        self.eventLoop = eventLoop
        self.endpoint = endpoint
        self.timeout = timeout
    }

    /// Sends `request` (head and body) and calls `completion` on the event loop once the whole
    /// answer has arrived or the request failed. No other request may be outstanding.
    func send(_ request: ByteBuffer, completion: @escaping (BenchClient.Outcome) -> Void) {
        eventLoop.preconditionInEventLoop()
        precondition(pending == nil, "one request at a time on a connection")
        pending = Pending(request: request, completion: completion)
        if let handler, let context = handler.context {
            write(context: context)
        } else if !connecting {
            connect()
        }
    }

    /// Closes the connection; a request still outstanding fails.
    func close() {
        eventLoop.preconditionInEventLoop()
        closed = true
        timer?.cancel()
        timer = nil
        if let context = handler?.context { context.close(promise: nil) }
        handler = nil
        fail("the benchmark closed the connection")
    }

    private func connect() {
        connecting = true
        let handler = Handler(connection: self)
        self.handler = handler
        let endpoint = endpoint
        ClientBootstrap(group: eventLoop)
            .connectTimeout(.seconds(5))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .connect(host: endpoint.host, port: endpoint.port)
            .assumeIsolated()
            .whenComplete { result in
                self.connected(handler, result.map { _ in () })
            }
    }

    private func connected(_ handler: Handler, _ result: Result<Void, any Error>) {
        guard handler === self.handler else { return }
        connecting = false
        switch result {
        case .success:
            guard let context = handler.context else {
                self.handler = nil
                fail("the connection to \(endpoint.authority) closed as it opened")
                return
            }
            if pending != nil { write(context: context) }
        case .failure(let error):
            self.handler = nil
            fail("cannot connect to \(endpoint.authority): \(error)")
        }
    }

    private func write(context: ChannelHandlerContext) {
        guard var pending else { return }
        pending.deadline = .now() + timeout
        self.pending = pending
        context.writeAndFlush(Handler.wrapOutboundOut(pending.request), promise: nil)
        if timer == nil { armTimer(pending.deadline!) }
    }

    /// One timer per connection, not per request: when it fires, it fails the request outstanding
    /// if that one's deadline has passed, or waits for its deadline.
    private func armTimer(_ deadline: NIODeadline) {
        timer = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { self.timerFired() }
    }

    private func timerFired() {
        timer = nil
        guard let deadline = pending?.deadline else { return }
        if deadline <= .now() {
            dropChannel()
            fail("no answer within the request timeout of \(Double(timeout.nanoseconds) / 1e9) s")
        } else {
            armTimer(deadline)
        }
    }

    /// Closes the channel without failing the request outstanding.
    private func dropChannel() {
        if let context = handler?.context { context.close(promise: nil) }
        handler = nil
        connecting = false
    }

    private func fail(_ message: String) {
        guard let pending else { return }
        self.pending = nil
        pending.completion(.failure(message))
    }

    // MARK: Events from the channel's handler

    private func answered(_ response: HTTPResponseParser.Response, from handler: Handler) {
        guard handler === self.handler, let pending, pending.deadline != nil else { return }
        if response.closes { dropChannel() }
        self.pending = nil
        if (200..<300).contains(response.status) {
            pending.completion(.success)
        } else {
            pending.completion(.failure("HTTP \(response.status): \(ResponseCollector.errorText(response.errorBody))"))
        }
    }

    private func failed(_ message: String, from handler: Handler) {
        guard handler === self.handler else { return }
        dropChannel()
        fail(message)
    }

    private func channelClosed(from handler: Handler) {
        guard handler === self.handler, !connecting else { return }
        self.handler = nil
        fail(closed ? "the benchmark closed the connection" : "the server closed the connection before answering")
    }

    /// Reads answers off one channel and hands them to the connection.
    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        // @unchecked Sendable: created for a channel of `connection.eventLoop` and used only there.
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        let connection: BenchConnection
        private(set) var context: ChannelHandlerContext?
        private var parser = HTTPResponseParser()
        private var received: ByteBuffer?

        init(connection: BenchConnection) {
            self.connection = connection
        }

        func handlerAdded(context: ChannelHandlerContext) {
            self.context = context
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            self.context = nil
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            if var kept = received {
                kept.writeBuffer(&bytes)
                bytes = kept
                received = nil
            }
            do {
                while let response = try parser.next(&bytes) {
                    connection.answered(response, from: self)
                }
            } catch {
                connection.failed("invalid HTTP answer: \(error.message)", from: self)
                return
            }
            if bytes.readableBytes > 0 {
                bytes.discardReadBytes()
                received = bytes
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.context = nil
            if let response = parser.endOfInput() {
                connection.answered(response, from: self)
            }
            connection.channelClosed(from: self)
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            connection.failed("connection to \(connection.endpoint.authority) failed: \(error)", from: self)
            context.close(promise: nil)
        }
    }
}

/// Where the benchmark's own client sends requests: host, port and path prefix of an `http://`
/// base URL.
struct BenchEndpoint: Sendable, Equatable {
    var host: String
    var port: Int
    /// `host:port` as the URL has it, for the `Host` header and messages.
    var authority: String
    /// The path of the base URL (empty or starting with `/`, without a trailing `/`).
    var pathPrefix: String

    /// The endpoint of `baseURL`, or `nil` unless it is a plain `http://` URL.
    init?(baseURL: String) {
        guard baseURL.hasPrefix("http://") else { return nil }
        let rest = baseURL.dropFirst("http://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        authority = String(rest[..<slash])
        var prefix = String(rest[slash...])
        while prefix.hasSuffix("/") { prefix.removeLast() }
        pathPrefix = prefix
        let hostPart: Substring
        let portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            portPart = after.hasPrefix(":") ? after.dropFirst() : nil
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
        } else {
            hostPart = Substring(authority)
            portPart = nil
        }
        guard !hostPart.isEmpty else { return nil }
        host = String(hostPart)
        if let portPart {
            guard let port = Int(portPart), (1...65535).contains(port) else { return nil }
            self.port = port
        } else {
            port = 80
        }
    }

    /// The whole request for `encoded` (head and body), encoded once and written as is for every
    /// request.
    func encode(_ encoded: EncodedRequest) -> ByteBuffer {
        var head = "POST \(pathPrefix)\(encoded.path) HTTP/1.1\r\n"
        head += "Host: \(authority)\r\n"
        head += "Content-Type: \(encoded.contentType)\r\n"
        head += "Content-Length: \(encoded.body.count)\r\n"
        if let headerLength = encoded.headerLength {
            head += "\(KServeV2.headerLengthField): \(headerLength)\r\n"
        }
        head += "\r\n"
        var buffer = ByteBuffer()
        buffer.reserveCapacity(head.utf8.count + encoded.body.count)
        buffer.writeString(head)
        buffer.writeBytes(encoded.body)
        return buffer
    }
}
