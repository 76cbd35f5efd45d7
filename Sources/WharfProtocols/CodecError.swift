public import WharfCore

/// Errors raised while reading or writing a wire format: malformed JSON, a request body of the
/// wrong structure, values that do not fit the declared element type, or outputs that cannot be
/// written in the requested format. The message says what was expected and what came.
public struct CodecError: WharfError, Sendable {
    /// What went wrong, as a value that can be matched on.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String {
            case malformedJSON, nestingTooDeep, invalidRequest, raggedList, typeMismatch, outOfRange
            case invalidBase64, invalidOutput
        }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// The bytes are not valid JSON; the message gives the byte offset.
        public static let malformedJSON = Code(.malformedJSON)
        /// Lists and objects nest deeper than the parser allows.
        public static let nestingTooDeep = Code(.nestingTooDeep)
        /// The body's structure is wrong: not an object, missing or conflicting keys, an empty
        /// list of instances, instances with different keys, and the like.
        public static let invalidRequest = Code(.invalidRequest)
        /// A nested list is not rectangular, or instances hold values of different shapes.
        public static let raggedList = Code(.raggedList)
        /// A value has the wrong kind for the declared element type (a string for a float, 1.5 for
        /// an integer, ...).
        public static let typeMismatch = Code(.typeMismatch)
        /// A number does not fit the declared element type.
        public static let outOfRange = Code(.outOfRange)
        /// A `{"b64": ...}` value is not valid base64.
        public static let invalidBase64 = Code(.invalidBase64)
        /// Output tensors cannot be written in the requested format (row format with outputs of
        /// different batch sizes, or a scalar output).
        public static let invalidOutput = Code(.invalidOutput)

        /// The code's name (`malformedJSON`, `raggedList`, ...).
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

    /// Every codec error is the client's: `INVALID_ARGUMENT`, as TensorFlow Serving answers.
    public var status: StatusCode { .invalidArgument }
}
