/// Errors raised while building, reading or converting tensors.
public struct TensorError: WharfError, Sendable {
    /// What went wrong, as a value that can be matched on.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String { case shapeMismatch, typeMismatch, invalidValue, unsupportedType }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// The element count or byte count does not match the shape.
        public static let shapeMismatch = Code(.shapeMismatch)
        /// The tensor holds another element type than the one asked for.
        public static let typeMismatch = Code(.typeMismatch)
        /// A value cannot be represented in the element type (out of range, not a number, ...).
        public static let invalidValue = Code(.invalidValue)
        /// The element type is not supported by this operation or runtime.
        public static let unsupportedType = Code(.unsupportedType)

        public var description: String { wrapped.rawValue }
    }

    public let code: Code
    public let message: String
    public let cause: (any Error)?

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var status: StatusCode { code == .unsupportedType ? .unimplemented : .invalidArgument }
}
