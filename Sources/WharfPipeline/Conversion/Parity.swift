import Foundation

/// Which inputs a parity check runs.
public struct ParityOptions: Sendable, Hashable {
    /// Input rows: a `.npy` array (single-input models) or a `.jsonl` file (one row per line: a
    /// value, or an object keyed by input name). `nil` synthesizes rows from the signature (random
    /// normal floats, small non-negative integers), except for int8 conversions, which are checked
    /// on their calibration data.
    public var inputs: String?
    /// Rows to run: the first `samples` rows of `inputs`, or this many synthesized rows (default 8).
    public var samples: Int?
    /// Seed of the synthesized rows.
    public var seed: Int

    public init(inputs: String? = nil, samples: Int? = nil, seed: Int = 0) {
        self.inputs = inputs
        self.samples = samples
        self.seed = seed
    }
}

/// The bounds a converted model's outputs must stay within, compared with the SavedModel's on the
/// same inputs. A `nil` bound is not checked. Every output must meet every bound; an output with
/// no top-1 agreement (not float, rank < 2 or a last dimension of 1) is not held to `minTop1Agreement`; a
/// NaN or infinite error (NaN where the reference has a number) always fails.
public struct ParityThresholds: Sendable, Hashable, Codable {
    /// The largest absolute difference allowed in any element.
    public var maxAbsError: Double?
    /// The largest relative difference allowed (see `ParityReport.Output.maxRelError`).
    public var maxRelError: Double?
    /// The smallest fraction of rows whose argmax must agree.
    public var minTop1Agreement: Double?

    public init(maxAbsError: Double? = nil, maxRelError: Double? = nil, minTop1Agreement: Double? = nil) {
        self.maxAbsError = maxAbsError
        self.maxRelError = maxRelError
        self.minTop1Agreement = minTop1Agreement
    }

    /// Wharf's defaults: float32 conversions (SavedModel, ONNX, TFLite) within 1e-4 absolute;
    /// fp16 within 1e-2; dynamic-range within 5e-2 and top-1 agreement ≥ 0.95; int8 top-1
    /// agreement ≥ 0.9 with no absolute bound.
    public static func defaults(for target: ConversionTarget, quantization: Quantization = .float32) -> ParityThresholds {
        switch quantization {
        case .float32: ParityThresholds(maxAbsError: 1e-4)
        case .float16: ParityThresholds(maxAbsError: 1e-2)
        case .dynamicRange: ParityThresholds(maxAbsError: 5e-2, minTop1Agreement: 0.95)
        case .int8: ParityThresholds(minTop1Agreement: 0.9)
        }
    }

    /// These thresholds with any bound that `overrides` sets replacing this one's.
    public func overridden(by overrides: ParityThresholds) -> ParityThresholds {
        ParityThresholds(
            maxAbsError: overrides.maxAbsError ?? maxAbsError, maxRelError: overrides.maxRelError ?? maxRelError,
            minTop1Agreement: overrides.minTop1Agreement ?? minTop1Agreement)
    }

    /// The bounds as people read them: `max abs error ≤ 0.0001, top-1 agreement ≥ 0.9`.
    public var summary: String {
        var parts: [String] = []
        if let maxAbsError { parts.append("max abs error ≤ \(ParityReport.format(maxAbsError))") }
        if let maxRelError { parts.append("max rel error ≤ \(ParityReport.format(maxRelError))") }
        if let minTop1Agreement { parts.append("top-1 agreement ≥ \(ParityReport.format(minTop1Agreement))") }
        return parts.isEmpty ? "none" : parts.joined(separator: ", ")
    }

    enum CodingKeys: String, CodingKey {
        case maxAbsError = "max_abs_error", maxRelError = "max_rel_error", minTop1Agreement = "min_top1_agreement"
    }
}

/// How closely a converted model reproduces its SavedModel on the same inputs, per output, judged
/// by thresholds.
public struct ParityReport: Sendable, Hashable, Codable {
    /// One output's differences.
    public struct Output: Sendable, Hashable, Codable {
        /// The reference's output key.
        public var name: String
        /// max |converted − reference| over all elements.
        public var maxAbsError: Double
        /// max |converted − reference| / max(|reference|, floor) over all elements, with
        /// floor = max(1e-3 · max |reference|, 1e-6): relative where the reference is large, and no
        /// blow-up on elements near zero.
        public var maxRelError: Double
        /// The fraction of rows (over all leading dimensions) whose argmax over the last dimension
        /// agrees; `nil` for non-float outputs and outputs of rank < 2 or a last dimension of 1.
        public var top1Agreement: Double?
        /// Whether this output meets the thresholds.
        public var passed: Bool
        /// The bounds it broke, as people read them (`max abs error 0.0029 > 0.0001`).
        public var failures: [String]

        public init(name: String, maxAbsError: Double, maxRelError: Double, top1Agreement: Double?) {
            self.name = name
            self.maxAbsError = maxAbsError
            self.maxRelError = maxRelError
            self.top1Agreement = top1Agreement
            self.passed = true
            self.failures = []
        }

        enum CodingKeys: String, CodingKey {
            case name, maxAbsError = "max_abs_error", maxRelError = "max_rel_error"
            case top1Agreement = "top1_agreement", passed, failures
        }

        // Errors may be infinite (NaN against a number); JSON has no infinity, so non-finite values
        // travel as the strings "Infinity", "-Infinity" and "NaN", as python/convert.py writes them.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
            maxAbsError = try Self.decodeNumber(container, .maxAbsError)
            maxRelError = try Self.decodeNumber(container, .maxRelError)
            top1Agreement = try container.decodeNil(forKey: .top1Agreement) ? nil : Self.decodeNumber(container, .top1Agreement)
            passed = try container.decodeIfPresent(Bool.self, forKey: .passed) ?? true
            failures = try container.decodeIfPresent([String].self, forKey: .failures) ?? []
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try Self.encodeNumber(maxAbsError, &container, .maxAbsError)
            try Self.encodeNumber(maxRelError, &container, .maxRelError)
            if let top1Agreement { try Self.encodeNumber(top1Agreement, &container, .top1Agreement) } else {
                try container.encodeNil(forKey: .top1Agreement)
            }
            try container.encode(passed, forKey: .passed)
            try container.encode(failures, forKey: .failures)
        }

        private static func decodeNumber(_ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> Double {
            if let number = try? container.decode(Double.self, forKey: key) { return number }
            switch try container.decode(String.self, forKey: key) {
            case "Infinity": return .infinity
            case "-Infinity": return -.infinity
            case "NaN": return .nan
            case let other:
                throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "not a number: \(other)")
            }
        }

        private static func encodeNumber(_ value: Double, _ container: inout KeyedEncodingContainer<CodingKeys>, _ key: CodingKeys) throws {
            if value.isFinite {
                try container.encode(value, forKey: key)
            } else {
                try container.encode(value.isNaN ? "NaN" : (value > 0 ? "Infinity" : "-Infinity"), forKey: key)
            }
        }
    }

    /// The reference runtime (`tensorflow 2.21.0`).
    public var reference: String
    /// The runtime that ran the converted model (`onnxruntime 1.31.1`, `tf.lite.Interpreter ...`).
    public var candidate: String
    /// Where the inputs came from: a file name, or `synthesized (normal, seed 0)`.
    public var inputs: String
    /// Rows run through both models.
    public var sampleCount: Int
    /// Every output of the reference, sorted by name.
    public var outputs: [Output]
    /// The thresholds `passed` was judged by.
    public var thresholds: ParityThresholds
    /// Whether every output meets the thresholds.
    public var passed: Bool

    public init(reference: String, candidate: String, inputs: String, sampleCount: Int, outputs: [Output], thresholds: ParityThresholds) {
        self.reference = reference
        self.candidate = candidate
        self.inputs = inputs
        self.sampleCount = sampleCount
        self.outputs = outputs.sorted { $0.name < $1.name }
        self.thresholds = thresholds
        self.passed = true
        self = evaluated(against: thresholds)
    }

    /// The same measurements judged by other thresholds.
    public func evaluated(against thresholds: ParityThresholds) -> ParityReport {
        var report = self
        report.thresholds = thresholds
        report.outputs = outputs.map { output in
            var output = output
            var failures: [String] = []
            if !output.maxAbsError.isFinite || !output.maxRelError.isFinite {
                failures.append("non-finite error: the converted model gives NaN or Inf where the reference does not")
            }
            if let bound = thresholds.maxAbsError, output.maxAbsError > bound, output.maxAbsError.isFinite {
                failures.append("max abs error \(Self.format(output.maxAbsError)) > \(Self.format(bound))")
            }
            if let bound = thresholds.maxRelError, output.maxRelError > bound, output.maxRelError.isFinite {
                failures.append("max rel error \(Self.format(output.maxRelError)) > \(Self.format(bound))")
            }
            if let bound = thresholds.minTop1Agreement, let agreement = output.top1Agreement, agreement < bound {
                failures.append("top-1 agreement \(Self.format(agreement)) < \(Self.format(bound))")
            }
            output.failures = failures
            output.passed = failures.isEmpty
            return output
        }
        report.passed = report.outputs.allSatisfy(\.passed)
        return report
    }

    /// The outputs that broke a bound, with what they broke (`probabilities: max abs error ...`).
    public var failureSummary: String {
        outputs.filter { !$0.passed }.map { "\($0.name): \($0.failures.joined(separator: "; "))" }.joined(separator: "; ")
    }

    /// A number for people: three significant digits (`0.0001`, `1.19e-07`, `0.98`).
    static func format(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "inf" : "-inf") }
        return String(format: "%.3g", value)
    }

    enum CodingKeys: String, CodingKey {
        case reference, candidate, inputs, sampleCount = "samples", outputs, thresholds, passed
    }
}
