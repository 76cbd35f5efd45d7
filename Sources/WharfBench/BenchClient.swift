import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import WharfProtocols
import WharfCore

/// The HTTP side of a benchmark.
///
/// For an `http://` server, requests go over the benchmark's own lean HTTP/1.1 keep-alive
/// connections (`BenchConnection`): the request's bytes are encoded once and written as they are,
/// and answers are parsed on the event loop, so a request costs the client far less CPU than a
/// general-purpose client (which matters at low concurrency, where the client's time adds to every
/// request's latency). A closed-loop worker owns one connection; the open loop borrows from a pool
/// of them. For an `https://` server, requests go through AsyncHTTPClient (with a keep-alive pool
/// as large as the most requests a step keeps in flight). The model's metadata is always read
/// with AsyncHTTPClient.
final class BenchClient: Sendable {
    /// How one request ended.
    enum Outcome: Sendable {
        case success
        case failure(String)
    }

    /// A request ready to send many times.
    struct PreparedRequest: Sendable {
        /// Head and body, for the lean connections.
        let wire: ByteBuffer
        /// The same request for AsyncHTTPClient.
        let request: HTTPClient.Request
    }

    private let http: HTTPClient
    private let timeout: TimeAmount
    /// Where the lean connections go; `nil` when the server is `https://`.
    let endpoint: BenchEndpoint?
    /// Idle lean connections for requests sent without a connection of their own (open loop).
    private let idle = Mutex<[BenchConnection]>([])

    /// The event loops requests run on.
    var eventLoopGroup: any EventLoopGroup { http.eventLoopGroup }

    init(poolSize: Int, requestTimeout: Duration, baseURL: String) {
        var configuration = HTTPClient.Configuration()
        configuration.httpVersion = .http1Only
        configuration.redirectConfiguration = .disallow
        configuration.connectionPool = .init(idleTimeout: .seconds(60))
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(1, poolSize)
        // A refused connection fails the request at once instead of being retried until the
        // connect timeout: a benchmark reports it rather than waiting.
        configuration.connectionPool.retryConnectionEstablishment = false
        timeout = .nanoseconds(Int64(min(requestTimeout.seconds, 86_400) * 1e9))
        configuration.timeout = .init(connect: .seconds(5), read: timeout)
        configuration.http1_1ConnectionDebugInitializer = { channel in RequestCoalescingHandler.install(on: channel) }
        // No tracing: even the no-op tracer makes a span per request (names, URL attributes).
        configuration.tracing.tracer = nil
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        endpoint = BenchEndpoint(baseURL: baseURL)
    }

    /// A lean connection of its own on `eventLoop`, or `nil` when requests go through
    /// AsyncHTTPClient. Close it on its event loop when done.
    func connection(on eventLoop: any EventLoop) -> BenchConnection? {
        endpoint.map { BenchConnection(eventLoop: eventLoop, endpoint: $0, timeout: timeout) }
    }

    /// Closes the connections; call once, when done.
    func shutdown() async {
        let connections = idle.withLock { connections in
            defer { connections = [] }
            return connections
        }
        for connection in connections {
            try? await connection.eventLoop.submit { connection.close() }.get()
        }
        try? await http.shutdown()
    }

    /// Reads the model's KServe V2 metadata at `url`.
    ///
    /// A client of its own does this, so its connection, on whichever event loop, does not stay in
    /// the load's pool where workers on other loops would pick it up.
    func metadata(url: String, model: String) async throws(BenchError) -> ModelMetadata {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout = .init(connect: .seconds(5), read: timeout)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let body: ByteBuffer
        let status: UInt
        do {
            let response = try await client.execute(HTTPClientRequest(url: url), timeout: timeout)
            status = response.status.code
            body = try await response.body.collect(upTo: 16 << 20)
            try? await client.shutdown()
        } catch {
            try? await client.shutdown()
            throw BenchError(.serverUnreachable, "cannot reach the server for GET \(url): \(Self.describe(error))")
        }
        guard (200..<300).contains(status) else {
            throw BenchError(
                .modelNotFound,
                "GET \(url) answered HTTP \(status) (\(ResponseCollector.errorText(body))); expected the metadata of model '\(model)': is it in the server's repository and loaded?")
        }
        let json: JSONValue
        do {
            json = try JSONValue.parse(Array(body.readableBytesView))
        } catch {
            throw BenchError(.invalidMetadata, "GET \(url) answered with a body that is not JSON: \(error.message)")
        }
        return try ModelMetadata(json: json)
    }

    /// The request to send for `encoded`, encoded once and sent many times.
    func prepare(_ encoded: EncodedRequest, baseURL: String) throws(BenchError) -> PreparedRequest {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: encoded.contentType)
        if let headerLength = encoded.headerLength {
            headers.add(name: KServeV2.headerLengthField, value: String(headerLength))
        }
        let url = baseURL + encoded.path
        let request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(url: url, method: .POST, headers: headers, body: .byteBuffer(ByteBuffer(bytes: encoded.body)))
        } catch {
            throw BenchError(.invalidConfiguration, "cannot send requests to \(url): \(Self.describe(error))")
        }
        return PreparedRequest(wire: endpoint?.encode(encoded) ?? ByteBuffer(), request: request)
    }

    /// Sends one request and calls `completion` on an event loop once the whole answer has arrived
    /// or the request failed. At most `poolSize` requests may be outstanding.
    func send(_ request: PreparedRequest, completion: @escaping @Sendable (Outcome) -> Void) {
        guard let endpoint else {
            send(request.request, on: nil, completion: completion)
            return
        }
        let connection = idle.withLock { $0.popLast() }
            ?? BenchConnection(eventLoop: http.eventLoopGroup.next(), endpoint: endpoint, timeout: timeout)
        connection.eventLoop.execute {
            connection.send(request.wire) { outcome in
                self.idle.withLock { $0.append(connection) }
                completion(outcome)
            }
        }
    }

    /// Sends one request through AsyncHTTPClient, on `eventLoop` (its connection's too) when
    /// given, and calls `completion` on the event loop once the whole answer has arrived or the
    /// request failed.
    func send(
        _ request: HTTPClient.Request, on eventLoop: (any EventLoop)?, completion: @escaping @Sendable (Outcome) -> Void
    ) {
        // `.delegate(on:)` prefers an idle connection on that loop and opens new ones there, so a
        // worker keeps to connections on its own loop. (`.delegateAndChannel(on:)` would open
        // event-loop-bound connections, which the pool closes as soon as they are idle.)
        let preference: HTTPClient.EventLoopPreference = eventLoop.map { .delegate(on: $0) } ?? .indifferent
        // No per-request deadline (a timer per request costs the client time): the read timeout of
        // the configuration fails a request whose answer stalls for the request timeout.
        http.execute(request: request, delegate: ResponseCollector(), eventLoop: preference)
            .futureResult.whenComplete { result in
                switch result {
                case .success(let outcome): completion(outcome)
                case .failure(let error): completion(.failure(Self.describe(error)))
                }
            }
    }

    private static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        return text.hasPrefix("HTTPClientError.") ? String(text.dropFirst("HTTPClientError.".count)) : text
    }
}
