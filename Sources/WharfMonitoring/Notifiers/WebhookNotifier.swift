public import AsyncHTTPClient
import Crypto
public import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix

/// How a notifier retries a delivery that failed for a reason that may pass: the first retry
/// waits `baseDelay`, each further one twice as long as the one before, at most `maxDelay`.
public struct RetryPolicy: Sendable, Hashable {
    /// How many times to try in all (1: no retry).
    public var attempts: Int
    /// The wait before the first retry.
    public var baseDelay: Duration
    /// The longest wait between two attempts (a `Retry-After` the server sends is honoured up to
    /// this bound).
    public var maxDelay: Duration

    /// A policy; `attempts` below 1 counts as 1.
    public init(attempts: Int = 3, baseDelay: Duration = .milliseconds(500), maxDelay: Duration = .seconds(30)) {
        self.attempts = max(1, attempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// One attempt, no retry.
    public static let none = RetryPolicy(attempts: 1)

    /// The wait after failed attempt number `attempt` (1-based).
    public func delay(afterAttempt attempt: Int) -> Duration {
        var delay = baseDelay
        for _ in 1..<max(1, attempt) {
            delay *= 2
            if delay >= maxDelay { return maxDelay }
        }
        return min(delay, maxDelay)
    }
}

/// Why a webhook delivery failed. `description` names the URL and what went wrong.
public struct WebhookError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure.
    public enum Kind: Sendable, Hashable {
        /// The receiver answered with an HTTP status that is not a success.
        case httpStatus(Int)
        /// No answer: the connection failed, was refused or timed out.
        case unreachable
        /// The URL is not an http(s) URL.
        case invalidURL
    }

    /// What kind of failure.
    public var kind: Kind
    /// The webhook's URL.
    public var url: String
    /// How many attempts were made.
    public var attempts: Int
    /// A sentence for people.
    public var description: String

    /// The HTTP status of the last answer, when there was one.
    public var status: Int? {
        if case .httpStatus(let code) = kind { return code }
        return nil
    }
}

/// Delivers notifications as an HTTP POST of Alertmanager's webhook JSON (``AlertNotification``),
/// with AsyncHTTPClient.
///
/// - When a `secret` is set, the request carries `X-Wharf-Signature: sha256=<hex>`, the HMAC-SHA256
///   of the exact body bytes keyed with the secret's UTF-8 bytes (``WebhookNotifier/signature(of:secret:)``).
/// - Any 2xx answer is success. Connection failures, timeouts, 5xx and 429 are retried with
///   exponential backoff (``RetryPolicy``); other 4xx answers fail at once, since sending the same
///   body again would get the same answer.
public struct WebhookNotifier: Notifier {
    /// The header that carries the body's signature.
    public static let signatureHeader = "X-Wharf-Signature"

    public let name: String
    /// Where notifications are POSTed.
    public let url: String
    /// The key of the body's HMAC-SHA256 signature; no signature header when `nil`.
    public let secret: String?
    /// The limit on one attempt, from connecting to the end of the answer.
    public let timeout: Duration
    /// How failed attempts are retried.
    public let retry: RetryPolicy
    /// Extra request headers (an `Authorization` header, say).
    public let headers: [(String, String)]
    private let client: HTTPClient

    /// A webhook notifier.
    ///
    /// - Parameters:
    ///   - httpClient: the client to send with; by default one shared by every webhook notifier,
    ///     which fails a request as soon as its connection fails (instead of retrying the
    ///     connection until the timeout) so that the notifier's own retry policy decides.
    public init(
        name: String = "webhook",
        url: String,
        secret: String? = nil,
        timeout: Duration = .seconds(10),
        retry: RetryPolicy = RetryPolicy(),
        headers: [(String, String)] = [],
        httpClient: HTTPClient? = nil
    ) {
        self.name = name
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.retry = retry
        self.headers = headers
        self.client = httpClient ?? WebhookNotifier.sharedClient
    }

    /// `sha256=<hex>`: the value of ``signatureHeader`` for `body` and `secret`.
    public static func signature(of body: some DataProtocol, secret: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + code.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    public func send(_ notification: AlertNotification) async throws {
        let body = try notification.jsonData()
        try await post(body)
    }

    /// POSTs `body` (already encoded JSON) with the signature, timeout and retries.
    public func post(_ body: Data) async throws {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https",
              parsed.host != nil
        else {
            throw WebhookError(kind: .invalidURL, url: url, attempts: 0, description: "webhook URL '\(url)' is not an http:// or https:// URL")
        }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Wharf-Alerting/1")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let secret {
            request.headers.add(name: WebhookNotifier.signatureHeader, value: WebhookNotifier.signature(of: body, secret: secret))
        }
        request.body = .bytes(ByteBuffer(data: body))

        var attempt = 0
        while true {
            attempt += 1
            let (failure, retryable, retryAfter) = try await self.attempt(request, number: attempt)
            guard let failure else { return }
            guard retryable, attempt < retry.attempts else {
                var final = failure
                if attempt > 1 { final.description += " (gave up after \(attempt) attempts)" }
                throw final
            }
            var delay = retry.delay(afterAttempt: attempt)
            if let retryAfter { delay = max(delay, min(retryAfter, retry.maxDelay)) }
            try await Task.sleep(for: delay)
        }
    }

    /// One POST: no error when it was delivered, else the error, whether trying again may help,
    /// and the wait the server asked for.
    private func attempt(_ request: HTTPClientRequest, number: Int) async throws -> (WebhookError?, retryable: Bool, retryAfter: Duration?) {
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: TimeAmount(timeout))
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            let failure = WebhookError(
                kind: .unreachable, url: url, attempts: number, description: "webhook \(url) unreachable: \(WebhookNotifier.describe(error))")
            return (failure, true, nil)
        }
        let code = Int(response.status.code)
        // Read (a bounded part of) the answer: it ends the exchange, so that the connection can be
        // reused, and its text makes a better error.
        let answer = (try? await response.body.collect(upTo: 64 * 1024)).map { String(buffer: $0) } ?? ""
        if (200..<300).contains(code) { return (nil, false, nil) }
        var text = "webhook \(url) answered HTTP \(code) \(response.status.reasonPhrase)"
        let excerpt = WebhookNotifier.excerpt(answer)
        if !excerpt.isEmpty { text += ": \(excerpt)" }
        let failure = WebhookError(kind: .httpStatus(code), url: url, attempts: number, description: text)
        var retryAfter: Duration?
        if let value = response.headers.first(name: "Retry-After"), let seconds = Int(value.trimmingCharacters(in: .whitespaces)), seconds >= 0 {
            retryAfter = .seconds(seconds)
        }
        return (failure, code == 429 || code >= 500, retryAfter)
    }

    /// The first line of a response body, shortened.
    static func excerpt(_ text: String) -> String {
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
        return line.count > 200 ? String(line.prefix(200)) + "…" : line
    }

    /// A readable reason for a transport error.
    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .writeTimeout: return "timed out"
            case .connectTimeout: return "connection timed out"
            case .remoteConnectionClosed: return "the server closed the connection"
            default: return String(describing: error)
            }
        }
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first { return "connection failed: \(describe(first.error))" }
            return "connection failed: \(error)"
        }
        if let error = error as? IOError {
            if error.errnoCode == ECONNREFUSED { return "connection refused" }
            return String(describing: error)
        }
        return String(describing: error)
    }

    /// One client for every webhook notifier; never shut down (like `HTTPClient.shared`).
    static let sharedClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }()
}
