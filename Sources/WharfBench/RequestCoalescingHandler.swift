import NIOCore
import NIOHTTP1

/// Sends a request's head and body in one write system call.
///
/// AsyncHTTPClient flushes a request's head on its own and then writes and flushes the body, so
/// every request costs the client two writes and the server two reads, where wrk and most clients
/// send one segment. This handler, between AsyncHTTPClient's handler and the request encoder, holds
/// back the flush after a head until the request's end has been written (AsyncHTTPClient writes a
/// buffered body at once, in the same turn of the event loop), or at the latest until the next
/// turn, so a streamed body is never held up.
final class RequestCoalescingHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    /// A head was written and its request's end has not been.
    private var inRequest = false
    /// A flush arrived while `inRequest` and has not been passed on yet.
    private var flushHeld = false

    /// Adds the handler to a connection AsyncHTTPClient has just set up (its
    /// `http1_1ConnectionDebugInitializer`).
    static func install(on channel: any Channel) -> EventLoopFuture<Void> {
        channel.eventLoop.submit {
            let pipeline = channel.pipeline.syncOperations
            let encoder = try pipeline.context(handlerType: HTTPRequestEncoder.self)
            try pipeline.addHandler(RequestCoalescingHandler(), position: .after(encoder.handler))
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head:
            inRequest = true
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            context.write(data, promise: promise)
            inRequest = false
            releaseHeldFlush(context: context)
        }
    }

    func flush(context: ChannelHandlerContext) {
        guard inRequest else {
            context.flush()
            return
        }
        guard !flushHeld else { return }
        flushHeld = true
        context.eventLoop.assumeIsolated().execute {
            self.releaseHeldFlush(context: context)
        }
    }

    private func releaseHeldFlush(context: ChannelHandlerContext) {
        guard flushHeld else { return }
        flushHeld = false
        context.flush()
    }
}

@available(*, unavailable)
extension RequestCoalescingHandler: Sendable {}
