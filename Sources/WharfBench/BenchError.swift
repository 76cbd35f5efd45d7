public import WharfCore

/// Errors that stop a benchmark before or between its measurement steps: bad settings, a server
/// that cannot be reached, a model it does not serve, an unreadable input file. Failed requests
/// during a step are not errors of this kind; they are counted in the step's results.
public struct BenchError: WharfError, Sendable {
    /// What went wrong, as a value that can be matched on.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String {
            case invalidConfiguration, serverUnreachable, modelNotFound, invalidMetadata, invalidInput
        }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// A setting is out of range or malformed (URL, batch size, concurrency, rate, durations).
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// The server did not answer (connection refused, timeout).
        public static let serverUnreachable = Code(.serverUnreachable)
        /// The server answered the metadata request with an error (unknown model or version).
        public static let modelNotFound = Code(.modelNotFound)
        /// The model metadata is not the KServe V2 shape expected.
        public static let invalidMetadata = Code(.invalidMetadata)
        /// The input file cannot be read or decoded, or inputs cannot be built for the model.
        public static let invalidInput = Code(.invalidInput)

        /// The code's name.
        public var description: String { wrapped.rawValue }
    }

    /// What went wrong.
    public let code: Code
    /// Says what was expected and what came.
    public let message: String
    /// The error that caused this one, if any.
    public let cause: (any Error)?

    /// Creates an error of the given code and message.
    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// The canonical status the error maps to.
    public var status: StatusCode {
        switch code {
        case .serverUnreachable: .unavailable
        case .modelNotFound: .notFound
        case .invalidMetadata: .internal
        default: .invalidArgument
        }
    }
}
