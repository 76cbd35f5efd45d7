/// Canonical status codes shared by every Wharf error domain. They follow the gRPC/TensorFlow
/// codes so that the HTTP and gRPC front ends can map any error the way TF Serving does.
public enum StatusCode: Int, Sendable, Hashable, CustomStringConvertible {
    case ok = 0
    case cancelled = 1
    case unknown = 2
    case invalidArgument = 3
    case deadlineExceeded = 4
    case notFound = 5
    case alreadyExists = 6
    case permissionDenied = 7
    case resourceExhausted = 8
    case failedPrecondition = 9
    case aborted = 10
    case outOfRange = 11
    case unimplemented = 12
    case `internal` = 13
    case unavailable = 14
    case dataLoss = 15
    case unauthenticated = 16

    /// The upper-case name TensorFlow prints (`INVALID_ARGUMENT`, `NOT_FOUND`, ...).
    public var description: String {
        switch self {
        case .ok: "OK"
        case .cancelled: "CANCELLED"
        case .unknown: "UNKNOWN"
        case .invalidArgument: "INVALID_ARGUMENT"
        case .deadlineExceeded: "DEADLINE_EXCEEDED"
        case .notFound: "NOT_FOUND"
        case .alreadyExists: "ALREADY_EXISTS"
        case .permissionDenied: "PERMISSION_DENIED"
        case .resourceExhausted: "RESOURCE_EXHAUSTED"
        case .failedPrecondition: "FAILED_PRECONDITION"
        case .aborted: "ABORTED"
        case .outOfRange: "OUT_OF_RANGE"
        case .unimplemented: "UNIMPLEMENTED"
        case .internal: "INTERNAL"
        case .unavailable: "UNAVAILABLE"
        case .dataLoss: "DATA_LOSS"
        case .unauthenticated: "UNAUTHENTICATED"
        }
    }
}

/// What every Wharf error domain provides: a canonical status for protocol mapping, a message
/// that says what was expected and what came, and the underlying cause when there is one.
public protocol WharfError: Error, CustomStringConvertible {
    /// The canonical status this error maps to.
    var status: StatusCode { get }
    /// A human-readable message; says what was expected and what was received.
    var message: String { get }
    /// The error that caused this one, if any.
    var cause: (any Error)? { get }
}

extension WharfError {
    public var description: String {
        guard let cause else { return message }
        return "\(message) (cause: \(cause))"
    }
}
