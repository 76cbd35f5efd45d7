import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import WharfProtocols

/// Reads one answer on its event loop: drops the body of a 2xx answer, and keeps the start of any
/// other body for the error message.
final class ResponseCollector: HTTPClientResponseDelegate, @unchecked Sendable {
    // @unchecked Sendable: AsyncHTTPClient calls a delegate only on the request's event loop, one
    // call at a time, so the two fields are never touched concurrently.
    typealias Response = BenchClient.Outcome

    private static let keptErrorBytes = 64 << 10
    private var status: UInt = 0
    private var errorBody: ByteBuffer?

    func didReceiveHead(task: HTTPClient.Task<Response>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        status = head.status.code
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Response>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        if !(200..<300).contains(status) {
            var buffer = buffer
            if errorBody == nil { errorBody = ByteBuffer() }
            if let kept = errorBody?.readableBytes, kept < Self.keptErrorBytes {
                errorBody?.writeBuffer(&buffer)
            }
        }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<Response>) throws -> Response {
        if (200..<300).contains(status) { return .success }
        return .failure("HTTP \(status): \(Self.errorText(errorBody ?? ByteBuffer()))")
    }

    /// The `error` member of a JSON error body, or the start of the body as text.
    static func errorText(_ body: ByteBuffer) -> String {
        let bytes = Array(body.readableBytesView)
        if let json = try? JSONValue.parse(bytes), let message = json["error"]?.stringValue {
            return message
        }
        let text = String(decoding: bytes.prefix(200), as: UTF8.self)
        return text.isEmpty ? "empty body" : text
    }
}
