public import WharfCore

/// Errors resolving a request to a served model version.
public struct ServingError: WharfError, Sendable {
    /// What went wrong, as a value that can be matched on.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String { case modelNotFound, versionNotFound, labelNotFound, notReady, shuttingDown, queueFull, deadlineExceeded }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// No model of that name.
        public static let modelNotFound = Code(.modelNotFound)
        /// The model has no such version, or it is not loaded.
        public static let versionNotFound = Code(.versionNotFound)
        /// The model has no such label.
        public static let labelNotFound = Code(.labelNotFound)
        /// The model exists but no version is ready.
        public static let notReady = Code(.notReady)
        /// The server or the version is stopping.
        public static let shuttingDown = Code(.shuttingDown)
        /// The version's request queue is full.
        public static let queueFull = Code(.queueFull)
        /// The request's deadline passed before it ran.
        public static let deadlineExceeded = Code(.deadlineExceeded)

        public var description: String { wrapped.rawValue }
    }

    public let code: Code
    public let message: String
    public var cause: (any Error)? { nil }

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var status: StatusCode {
        switch code {
        case .labelNotFound: .invalidArgument
        case .notReady, .shuttingDown, .queueFull: .unavailable
        case .deadlineExceeded: .deadlineExceeded
        default: .notFound
        }
    }
}
