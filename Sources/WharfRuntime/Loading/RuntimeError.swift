public import WharfCore

/// Errors from finding, opening and driving the inference runtimes, and from loading models.
public struct RuntimeError: WharfError, Sendable {
    /// What went wrong, as a value that can be matched on.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String {
            case libraryNotFound, libraryInvalid, modelNotFound, modelInvalid, unsupportedModel, runtimeFailure
        }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// A runtime library could not be found.
        public static let libraryNotFound = Code(.libraryNotFound)
        /// A runtime library was found but could not be opened or lacks what Wharf needs.
        public static let libraryInvalid = Code(.libraryInvalid)
        /// No model at the given path.
        public static let modelNotFound = Code(.modelNotFound)
        /// The model files are corrupt or the runtime rejected them.
        public static let modelInvalid = Code(.modelInvalid)
        /// The model is of a format or uses types Wharf cannot serve.
        public static let unsupportedModel = Code(.unsupportedModel)
        /// The runtime reported an error while running.
        public static let runtimeFailure = Code(.runtimeFailure)

        public var description: String { wrapped.rawValue }
    }

    public let code: Code
    public let message: String
    public let cause: (any Error)?
    public let status: StatusCode

    public init(_ code: Code, _ message: String, status: StatusCode? = nil, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
        self.status = status ?? RuntimeError.defaultStatus(code)
    }

    private static func defaultStatus(_ code: Code) -> StatusCode {
        switch code {
        case .libraryNotFound, .libraryInvalid: .failedPrecondition
        case .modelNotFound: .notFound
        case .modelInvalid: .dataLoss
        case .unsupportedModel: .unimplemented
        default: .internal
        }
    }
}
