public import WharfCore

/// Errors from converting a model or checking a conversion's parity: the converter's own reason
/// (an op it cannot convert, missing calibration data, an unreadable model), or a set-up problem.
public struct ConversionError: WharfError, Sendable {
    /// What went wrong, as a value that can be matched on.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String {
            case environmentMissing, sourceNotFound, unsupportedSource, invalidModel, unsupportedOp
            case missingCalibration, invalidOptions, outputExists, badInputs, parityMismatch, conversionFailed
        }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// The Python environment with the converters (`.venv`) or `python/convert.py` is missing.
        public static let environmentMissing = Code(.environmentMissing)
        /// No model at the source path.
        public static let sourceNotFound = Code(.sourceNotFound)
        /// The source is not a kind of model the converters read.
        public static let unsupportedSource = Code(.unsupportedSource)
        /// The source (or converted) model could not be read: corrupt or not what its name says.
        public static let invalidModel = Code(.invalidModel)
        /// The converter has no conversion for an op of the model; `op` names it.
        public static let unsupportedOp = Code(.unsupportedOp)
        /// int8 quantization was asked for without calibration data.
        public static let missingCalibration = Code(.missingCalibration)
        /// The options do not fit together (quantizing an ONNX conversion, a bad flag, ...).
        public static let invalidOptions = Code(.invalidOptions)
        /// The output path exists and overwriting was not asked for.
        public static let outputExists = Code(.outputExists)
        /// Input rows (calibration or parity data) could not be read or do not fit the model.
        public static let badInputs = Code(.badInputs)
        /// Parity could not compare the models: an output is missing or has another shape.
        public static let parityMismatch = Code(.parityMismatch)
        /// Any other converter failure.
        public static let conversionFailed = Code(.conversionFailed)

        /// The code for a `kind` in `python/convert.py`'s error JSON.
        init(kind: String?) {
            switch kind {
            case "source_not_found": self = .sourceNotFound
            case "unsupported_source": self = .unsupportedSource
            case "invalid_model": self = .invalidModel
            case "unsupported_op": self = .unsupportedOp
            case "missing_calibration": self = .missingCalibration
            case "usage", "missing_io": self = .invalidOptions
            case "output_exists": self = .outputExists
            case "bad_inputs": self = .badInputs
            case "parity_mismatch": self = .parityMismatch
            default: self = .conversionFailed
            }
        }

        public var description: String { wrapped.rawValue }
    }

    public let code: Code
    public let message: String
    /// The model op the converter could not handle, when one is to blame.
    public let op: String?
    public let cause: (any Error)?

    public init(_ code: Code, _ message: String, op: String? = nil, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.op = op
        self.cause = cause
    }

    public var status: StatusCode {
        switch code {
        case .environmentMissing: .failedPrecondition
        case .sourceNotFound: .notFound
        case .unsupportedSource, .unsupportedOp: .unimplemented
        case .invalidModel: .dataLoss
        case .missingCalibration, .invalidOptions, .badInputs: .invalidArgument
        case .outputExists: .alreadyExists
        default: .internal
        }
    }
}
