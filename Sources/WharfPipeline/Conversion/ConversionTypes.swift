public import WharfCore

/// The format a conversion writes.
public enum ConversionTarget: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// A TensorFlow SavedModel directory with a `serving_default` signature.
    case savedModel = "savedmodel"
    /// An ONNX file, converted with tf2onnx.
    case onnx
    /// A TensorFlow Lite flatbuffer, converted with TFLiteConverter (optionally quantized).
    case tflite

    /// The model format of the converted artifact.
    public var format: ModelFormat {
        switch self {
        case .savedModel: .savedModel
        case .onnx: .onnx
        case .tflite: .tflite
        }
    }

    /// The artifact's name when the converter picks the output path.
    public var defaultFileName: String {
        switch self {
        case .savedModel: "saved_model"
        case .onnx: "model.onnx"
        case .tflite: "model.tflite"
        }
    }

    /// `python/convert.py`'s subcommand.
    var subcommand: String { "to-\(rawValue)" }

    public var description: String { rawValue }
}

/// The numeric variant of a converted model. Only TensorFlow Lite conversions quantize.
public enum Quantization: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// No quantization: float32 weights and activations.
    case float32 = "fp32"
    /// float16 weights (TFLite dequantizes them to float32 on CPU).
    case float16 = "fp16"
    /// Full integer quantization: int8 weights and activations, with ranges calibrated on a
    /// representative dataset; inputs and outputs stay float32.
    case int8
    /// Dynamic-range quantization: int8 weights, activations quantized on the fly.
    case dynamicRange = "dynamic"

    public var description: String { rawValue }
}

/// How to convert. The defaults are a float32 conversion at opset 17.
public struct ConversionOptions: Sendable, Hashable {
    /// Where to write the artifact; `nil` writes `target.defaultFileName` in a new temporary directory.
    public var output: String?
    /// Replace an existing artifact at `output` (otherwise an existing output is an error).
    public var overwrite: Bool
    /// ONNX opset for tf2onnx.
    public var opset: Int
    /// TFLite quantization.
    public var quantization: Quantization
    /// int8 calibration rows: a `.npy` array (single-input models) or a `.jsonl` file.
    public var calibrationData: String?
    /// Calibrate on at most this many rows (all when `nil`).
    public var calibrationSamples: Int?
    /// TFLite: keep ops without a TFLite kernel as TensorFlow ops (needs the Flex delegate to run).
    public var selectTFOps: Bool
    /// TF1 checkpoint and frozen-graph sources: input tensors (`x:0`); found from the graph's
    /// placeholders when empty.
    public var inputNames: [String]
    /// TF1 checkpoint and frozen-graph sources: output tensors (`y:0`); the graph's one obvious
    /// output when empty.
    public var outputNames: [String]
    /// Also check parity against the source, in the same converter run (ONNX and TFLite targets).
    public var parity: ParityOptions?
    /// The thresholds parity is judged by; `nil` takes `ParityThresholds.defaults(for:quantization:)`.
    public var parityThresholds: ParityThresholds?

    public init(
        output: String? = nil, overwrite: Bool = false, opset: Int = 17, quantization: Quantization = .float32,
        calibrationData: String? = nil, calibrationSamples: Int? = nil, selectTFOps: Bool = false,
        inputNames: [String] = [], outputNames: [String] = [], parity: ParityOptions? = nil,
        parityThresholds: ParityThresholds? = nil
    ) {
        self.output = output
        self.overwrite = overwrite
        self.opset = opset
        self.quantization = quantization
        self.calibrationData = calibrationData
        self.calibrationSamples = calibrationSamples
        self.selectTFOps = selectTFOps
        self.inputNames = inputNames
        self.outputNames = outputNames
        self.parity = parity
        self.parityThresholds = parityThresholds
    }
}

/// A converted artifact and how it was made.
public struct ConversionResult: Sendable, Hashable, Codable {
    /// The model converted (absolute path).
    public var source: String
    /// The artifact written (absolute path): a file, or the SavedModel directory.
    public var outputPath: String
    public var target: ConversionTarget
    public var variant: Quantization
    /// The artifact's size in bytes (all files of a SavedModel).
    public var sizeBytes: Int64
    /// Wall-clock seconds of the whole converter run (parity included when asked for).
    public var durationSeconds: Double
    /// The converter and its version: `tf2onnx 1.17.0`, `TFLiteConverter (tensorflow 2.21.0)`, ...
    public var converter: String
    /// The converter's parameters: `opset`, `quantization`, `calibration_samples`, `inputs`, ...
    public var parameters: [String: String]
    /// The parity report, when the options asked for one.
    public var parity: ParityReport?

    /// The artifact's model format.
    public var format: ModelFormat { target.format }

    /// What a registry records as the version's lineage: the converter, the variant and every
    /// parameter (`["converter": "tf2onnx 1.17.0", "opset": "17", "variant": "fp32"]`).
    public var lineage: [String: String] {
        parameters.merging(["converter": converter, "variant": variant.rawValue]) { _, new in new }
    }

    public init(
        source: String, outputPath: String, target: ConversionTarget, variant: Quantization, sizeBytes: Int64,
        durationSeconds: Double, converter: String, parameters: [String: String], parity: ParityReport? = nil
    ) {
        self.source = source
        self.outputPath = outputPath
        self.target = target
        self.variant = variant
        self.sizeBytes = sizeBytes
        self.durationSeconds = durationSeconds
        self.converter = converter
        self.parameters = parameters
        self.parity = parity
    }

    enum CodingKeys: String, CodingKey {
        case source, outputPath = "output", target, variant, sizeBytes = "size_bytes"
        case durationSeconds = "duration_seconds", converter, parameters, parity
    }
}
