import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import WharfCore
import WharfProtocols
import WharfRegistry
import WharfServing

extension StatusCode {
    /// The HTTP status TF Serving answers with for this code (the gRPC-to-HTTP mapping).
    var httpStatus: HTTPResponse.Status {
        switch self {
        case .ok: .ok
        case .cancelled: .init(code: 499, reasonPhrase: "Client Closed Request")
        case .invalidArgument, .failedPrecondition, .outOfRange: .badRequest
        case .deadlineExceeded: .gatewayTimeout
        case .notFound: .notFound
        case .alreadyExists, .aborted: .conflict
        case .permissionDenied: .forbidden
        case .resourceExhausted: .tooManyRequests
        case .unimplemented: .notImplemented
        case .unavailable: .serviceUnavailable
        case .unauthenticated: .unauthorized
        case .unknown, .internal, .dataLoss: .internalServerError
        }
    }
}

/// A JSON response with the given status and body bytes.
func jsonResponse(_ status: HTTPResponse.Status = .ok, _ bytes: [UInt8], headers: HTTPFields = [:]) -> Response {
    var fields = headers
    fields[.contentType] = "application/json"
    return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
}

/// A JSON response carrying `value` encoded with the project's JSON conventions.
func jsonResponse(encoding value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
    jsonResponse(status, Array(try JSONCoding.encode(value).utf8))
}

/// The `limit` query parameter: `fallback` when absent, 400 outside 1...`maximum`.
func queryLimit(_ request: Request, fallback: Int, maximum: Int) throws -> Int {
    let limit = request.uri.queryParameters.get("limit").flatMap { Int(String($0)) } ?? fallback
    guard (1...maximum).contains(limit) else { throw RequestError(.badRequest, "limit expects 1 to \(maximum), got \(limit)") }
    return limit
}

/// Every error becomes `{"error": "..."}` (the shape of both TF Serving's and KServe's errors)
/// with the matching HTTP status; nothing a request does takes the server down.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let status = httpStatus(for: error)
            var headers: HTTPFields = [:]
            let message: String
            switch error {
            case let error as any WharfError: message = error.description
            case let error as RequestError: message = error.message
            case let error as HTTPError:
                message = error.body ?? status.reasonPhrase
                headers = error.headers
            case let error as any HTTPResponseError: message = "\(error)"
            default: message = "internal error: \(error)"
            }
            // The server's own failures are logged; statuses the HTTP layer chose are the client's.
            // Shedding load (a full queue, a passed deadline, a version that is stopping) happens
            // to many requests at once under overload: one line each at error level would flood
            // the log and cost CPU just when there is none to spare, so those go to debug.
            if status.code >= 500, !(error is RequestError), !(error is any HTTPResponseError) {
                if let error = error as? ServingError, [.queueFull, .deadlineExceeded, .shuttingDown].contains(error.code) {
                    context.logger.debug("request shed", metadata: ["error": "\(error)"])
                } else {
                    context.logger.error("request failed", metadata: ["error": "\(error)"])
                }
            }
            return jsonResponse(status, TFServingJSON.encodeError(message), headers: headers)
        }
    }
}

/// The HTTP status `ErrorMiddleware` answers `error` with.
func httpStatus(for error: any Error) -> HTTPResponse.Status {
    switch error {
    case let error as any WharfError: error.status.httpStatus
    case let error as RequestError: error.status
    case let error as any HTTPResponseError: error.status
    default: .internalServerError
    }
}

/// Runs an inference route and reports it to `observer`: the model, the version that ran it (the
/// route sets `version` once it has a lease), the status and the timing.
func observeInference(
    _ observer: (any InferenceObserver)?, model: String, api: String,
    _ body: (_ version: inout Int64?, _ timing: inout RequestTiming?) async throws -> Response
) async throws -> Response {
    var version: Int64?
    var timing: RequestTiming?
    guard let observer else { return try await body(&version, &timing) }
    let started = ContinuousClock.now
    do {
        let response = try await body(&version, &timing)
        observer.record(InferenceRecord(
            model: model, version: version, api: api, status: Int(response.status.code), duration: started.duration(to: .now), timing: timing))
        return response
    } catch {
        observer.record(InferenceRecord(
            model: model, version: version, api: api, status: Int(httpStatus(for: error).code), duration: started.duration(to: .now),
            timing: timing, modelFailed: (error as? InferenceError)?.code == .runFailed))
        throw error
    }
}

private let requestIDField = HTTPField.Name("X-Request-Id")!

/// Echoes the request id (the client's `X-Request-Id`, or Hummingbird's own) on every response
/// so that a client's report can be matched to the server log lines carrying `hb.request.id`.
struct RequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let id: String
        if let sent = request.headers[requestIDField] {
            id = sent
            // Setting metadata re-renders the log handler's metadata: only for the client's own id
            // (the log lines already carry Hummingbird's as `hb.request.id`).
            context.logger[metadataKey: "request.id"] = .string(sent)
        } else {
            id = context.id
        }
        var response = try await next(request, context)
        response.headers[requestIDField] = id
        return response
    }
}

/// A request the HTTP layer itself rejects (size limits, malformed paths and headers).
struct RequestError: Error, CustomStringConvertible {
    let status: HTTPResponse.Status
    let message: String

    init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    var description: String { message }
}

extension Request {
    /// The whole body; 413 with the limit in the message, or 400 for a body that ends early or
    /// that the HTTP parser rejects.
    ///
    /// With a `Content-Length`, reading stops once that many bytes have come: the end of the body
    /// that follows them is left for the server's connection loop, which reads it after the
    /// response has gone out (each read from the connection's stream costs a few microseconds).
    mutating func collectBody(limit: Int) async throws -> ByteBuffer {
        let length = headers[.contentLength].flatMap(Int.init)
        if let length, length > limit {
            throw RequestError(.contentTooLarge, "request body of \(length) bytes is larger than the limit of \(limit) bytes")
        }
        do {
            guard let length else { return try await collectBody(upTo: limit) }
            // The first part as it came (most bodies come in one), later parts appended to it.
            var whole = ByteBuffer()
            if length > 0 {
                var parts = body.makeAsyncIterator()
                while whole.readableBytes < length, let part = try await parts.next() {
                    if whole.readableBytes == 0 { whole = part } else { whole.writeImmutableBuffer(part) }
                }
            }
            // The HTTP parser ends a body at its Content-Length; fewer bytes: the client stopped.
            guard whole.readableBytes == length else { throw HTTPParserError.invalidEOFState }
            body = RequestBody(buffer: whole)
            return whole
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw RequestError(.contentTooLarge, "request body is larger than the limit of \(limit) bytes")
        } catch let error as HTTPParserError {
            let expected = length.map { " (Content-Length \($0))" } ?? ""
            throw RequestError(.badRequest, "request body could not be read\(expected): \(error)")
        }
    }
}

/// The compact JSON text of a value.
func encode(_ value: JSONValue) -> [UInt8] {
    var writer = JSONWriter()
    writer.write(value)
    return writer.bytes
}

/// A version path segment as a selector; anything but a non-negative integer is a 400.
func parseVersionSelector(_ text: String) throws -> VersionSelector {
    guard let version = Int64(text), version >= 0 else {
        throw RequestError(.badRequest, "a model version is a non-negative integer, got '\(text)'")
    }
    return .number(version)
}
