/// Errors in a request against a loaded model: the signature, the inputs or the outputs asked for
/// do not match what the model declares.
public struct InferenceError: WharfError, Sendable {
    /// What went wrong, as a value that can be matched on.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String {
            case unknownSignature, unknownInput, missingInput, unknownOutput, dtypeMismatch, shapeMismatch
            case runFailed
        }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// The model has no signature of the requested name.
        public static let unknownSignature = Code(.unknownSignature)
        /// A request names an input the signature does not have.
        public static let unknownInput = Code(.unknownInput)
        /// A request leaves out an input the signature requires.
        public static let missingInput = Code(.missingInput)
        /// A request asks for an output the signature does not have.
        public static let unknownOutput = Code(.unknownOutput)
        /// An input's element type differs from the declared one.
        public static let dtypeMismatch = Code(.dtypeMismatch)
        /// An input's rank or a static dimension differs from the declared shape.
        public static let shapeMismatch = Code(.shapeMismatch)
        /// The runtime rejected or failed the run itself.
        public static let runFailed = Code(.runFailed)

        public var description: String { wrapped.rawValue }
    }

    public let code: Code
    public let message: String
    public let cause: (any Error)?
    private let explicitStatus: StatusCode?

    public init(_ code: Code, _ message: String, status: StatusCode? = nil, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
        self.explicitStatus = status
    }

    public var status: StatusCode {
        // TF Serving answers every request/signature mismatch, unknown signature included, with
        // INVALID_ARGUMENT; runtime failures carry the runtime's own status.
        explicitStatus ?? .invalidArgument
    }
}
