import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import WharfProtocols

/// The HTTP side of a benchmark: one AsyncHTTPClient on NIO's singleton event loop group, with an
/// HTTP/1.1 keep-alive pool as large as the most requests a step keeps in flight.
///
/// Requests go through the event-loop API with a delegate that drops the answer's body, so a
/// request costs the client no hop between the event loop and Swift's concurrency pool.
final class BenchClient: Sendable {
    /// How one request ended.
    enum Outcome: Sendable {
        case success
        case failure(String)
    }

    private let http: HTTPClient
    private let timeout: TimeAmount

    /// The event loops requests run on.
    var eventLoopGroup: any EventLoopGroup { http.eventLoopGroup }

    init(poolSize: Int, requestTimeout: Duration) {
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
    }

    /// Closes the connections; call once, when done.
    func shutdown() async {
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

    /// The request to send for `encoded`, parsed once and sent many times.
    func prepare(_ encoded: EncodedRequest, baseURL: String) throws(BenchError) -> HTTPClient.Request {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: encoded.contentType)
        if let headerLength = encoded.headerLength {
            headers.add(name: KServeV2.headerLengthField, value: String(headerLength))
        }
        let url = baseURL + encoded.path
        do {
            return try HTTPClient.Request(url: url, method: .POST, headers: headers, body: .byteBuffer(ByteBuffer(bytes: encoded.body)))
        } catch {
            throw BenchError(.invalidConfiguration, "cannot send requests to \(url): \(Self.describe(error))")
        }
    }

    /// Sends one request, on `eventLoop` (its connection's too) when given, and calls `completion`
    /// on the event loop once the whole answer has arrived or the request failed.
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
