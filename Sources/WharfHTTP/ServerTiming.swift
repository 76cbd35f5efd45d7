import Foundation
import HTTPTypes
import Hummingbird
import WharfCore
import WharfServing

/// The server-side timing breakdown of one inference request: read (collecting the body), decode,
/// queue, compute, encode and total. A client that sends `X-Wharf-Timing: 1` gets it back as a W3C `Server-Timing` header
/// (durations in milliseconds), plus `X-Wharf-Batch-Size` and `X-Wharf-Cache: hit|miss`.
///
/// A client may also bound how long a request may wait with `X-Wharf-Timeout-Ms`; a request still
/// queued when it passes is answered 504 instead of running.
struct ServerTiming {
    static let requestField = HTTPField.Name("X-Wharf-Timing")!
    static let timeoutField = HTTPField.Name("X-Wharf-Timeout-Ms")!
    private static let timingField = HTTPField.Name("Server-Timing")!
    private static let batchSizeField = HTTPField.Name("X-Wharf-Batch-Size")!
    private static let cacheField = HTTPField.Name("X-Wharf-Cache")!

    private let started = ContinuousClock.now
    private let wanted: Bool
    private let timeout: String?
    private var read: Duration = .zero
    private var decode: Duration = .zero
    private var run = RequestTiming()
    private var encode: Duration = .zero
    private var mark = ContinuousClock.now

    init(request: Request) {
        wanted = request.headers[ServerTiming.requestField].map { $0 != "0" && $0.lowercased() != "false" } ?? false
        timeout = request.headers[ServerTiming.timeoutField]
        mark = started
    }

    /// The request's deadline from `X-Wharf-Timeout-Ms`, if it sent one.
    func deadline() throws -> ContinuousClock.Instant? {
        guard let timeout else { return nil }
        guard let milliseconds = Int(timeout), milliseconds > 0 else {
            throw RequestError(.badRequest, "X-Wharf-Timeout-Ms expects a positive number of milliseconds, got '\(timeout)'")
        }
        return started + .milliseconds(milliseconds)
    }

    mutating func bodyRead() {
        let now = ContinuousClock.now
        read = mark.duration(to: now)
        mark = now
    }

    mutating func decoded() {
        let now = ContinuousClock.now
        decode = mark.duration(to: now)
        mark = now
    }

    mutating func ran(_ timing: RequestTiming) {
        run = timing
        mark = .now
    }

    mutating func encoded() {
        let now = ContinuousClock.now
        encode = mark.duration(to: now)
        mark = now
    }

    /// The breakdown's parts.
    var parts: [(String, Duration)] {
        [("read", read), ("decode", decode), ("queue", run.queue), ("compute", run.compute), ("encode", encode), ("total", started.duration(to: mark))]
    }

    /// Response headers: empty unless the client asked for the breakdown.
    var headers: HTTPFields {
        guard wanted else { return [:] }
        var fields = HTTPFields()
        fields[Self.timingField] = parts.map { name, duration in
            "\(name);dur=\(String(format: "%.3f", duration.seconds * 1000))"
        }.joined(separator: ", ")
        fields[Self.batchSizeField] = String(run.batchSize)
        fields[Self.cacheField] = run.cacheHit ? "hit" : "miss"
        return fields
    }
}
