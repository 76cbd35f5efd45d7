import Foundation
import Testing
import WharfCore
import WharfPipeline
import WharfRuntime
import WharfTesting

/// Real conversions through python/convert.py (tf2onnx, TFLiteConverter, Keras, tf.compat.v1),
/// each checked for parity.
@Suite(.enabled(if: Fixtures.available, "run scripts/bootstrap to build the fixtures"))
struct ConversionTests {
    static let loader = ModelLoader()

    @Test func savedModelToONNXRunsOnWharfsOwnRuntimes() async throws {
        let result = try await SharedConversions.shared.mlp(.onnx)
        #expect(result.format == .onnx && result.variant == .float32)
        #expect(result.converter == "tf2onnx 1.17.0")
        #expect(result.lineage["converter"] == "tf2onnx 1.17.0" && result.lineage["opset"] == "17")
        #expect(result.sizeBytes > 100_000 && result.durationSeconds > 0)
        let report = try #require(result.parity)
        #expect(report.passed, "\(report.failureSummary)")
        #expect(report.candidate.hasPrefix("onnxruntime") && report.sampleCount == 8)

        // The .onnx through Wharf's ONNX Runtime backend against the SavedModel through its TensorFlow backend.
        let onnx = try Self.loader.load(path: result.outputPath)
        let savedModel = try Self.loader.load(path: Fixtures.savedModel("mlp"))
        #expect(onnx.runtime == .onnxruntime)
        #expect(onnx.defaultSignature?.inputs.map(\.name) == ["pixels"])
        for testCase in try Fixtures.cases("mlp").cases {
            let inputs = try testCase.inputTensors()
            let expected = try savedModel.run(inputs: inputs)
            let actual = try onnx.run(inputs: inputs)
            expectClose(actual["probabilities"], try #require(expected["probabilities"]), tolerance: 1e-5, "mlp via ONNX")
        }
    }

    @Test(arguments: Quantization.allCases)
    func savedModelToTFLitePassesParity(quantization: Quantization) async throws {
        let result = try await SharedConversions.shared.mlp(.tflite, quantization)
        #expect(result.format == .tflite && result.variant == quantization)
        #expect(result.converter.hasPrefix("TFLiteConverter"))
        #expect(result.parameters["quantization"] == (quantization == .float32 ? "none" : quantization.rawValue))
        let report = try #require(result.parity)
        #expect(report.passed, "\(quantization): \(report.failureSummary)")
        #expect(report.thresholds == ParityThresholds.defaults(for: .tflite, quantization: quantization))
        #expect(report.candidate.hasPrefix("tf.lite.Interpreter"))
        if quantization == .int8 {
            #expect(result.parameters["calibration_samples"] == "200")
            #expect(report.inputs == "calibration.npy" && report.sampleCount == 200, "int8 is checked on its calibration rows")
        }
        if quantization != .float32 {
            let full = try await SharedConversions.shared.mlp(.tflite)
            #expect(Double(result.sizeBytes) < 0.6 * Double(full.sizeBytes), "\(quantization) is smaller than fp32")
        }
    }

    /// What the pipeline's parity-failure test relies on: thresholds a caller sets decide.
    @Test func int8FailsParityWithATightThreshold() async throws {
        let int8 = try await SharedConversions.shared.mlp(.tflite, .int8)
        let tight = ParityThresholds(maxAbsError: 1e-5)
        let report = try await converting {
            try await Converter().parity(
                source: Fixtures.savedModel("mlp"), converted: int8.outputPath, thresholds: tight,
                options: ParityOptions(inputs: Fixtures.source("calibration.npy"), samples: 64))
        }
        #expect(!report.passed)
        #expect(report.sampleCount == 64)
        let output = try #require(report.outputs.first { $0.name == "probabilities" })
        #expect(output.maxAbsError > 1e-5)
        #expect(output.failures.contains { $0.hasPrefix("max abs error") })
        #expect(report.evaluated(against: .defaults(for: .tflite, quantization: .int8)).passed)
        #expect(try #require(int8.parity).evaluated(against: tight).passed == false)
    }

    @Test(arguments: ["classifier.keras", "classifier.h5"])
    func kerasToSavedModel(file: String) async throws {
        let scratch = try ScratchDirectory()
        let progress = ProgressLog()
        let result = try await converting {
            try await Converter().convert(
                source: Fixtures.source(file), target: .savedModel, options: ConversionOptions(output: scratch.path("saved_model")),
                progress: progress.handler)
        }
        #expect(result.format == .savedModel)
        #expect(result.converter.hasPrefix("keras "))
        #expect(progress.all.contains { $0.hasPrefix("loading Keras model") }, "\(progress.all)")
        let model = try Self.loader.load(path: result.outputPath)
        let signature = try #require(model.defaultSignature)
        #expect(signature.inputs.map(\.name) == ["features"] && signature.outputs.map(\.name) == ["probabilities"])
        let expected = try SourceCase.load("keras")
        let outputs = try model.run(inputs: try expected.inputs.mapValues { try $0.tensor() })
        expectClose(outputs["probabilities"], try expected.outputs["probabilities"]!.tensor(), tolerance: 1e-5, file)
    }

    @Test(arguments: ["tf1", "frozen.pb"])
    func tf1GraphToSavedModel(source: String) async throws {
        let scratch = try ScratchDirectory()
        let result = try await converting {
            try await Converter().convert(
                source: Fixtures.source(source), target: .savedModel, options: ConversionOptions(output: scratch.path("saved_model")))
        }
        #expect(result.parameters["inputs"] == "x:0" && result.parameters["outputs"] == "y:0", "found from the graph")
        #expect(result.parameters["source_format"] == (source == "tf1" ? "checkpoint" : "frozen_graph"))
        let model = try Self.loader.load(path: result.outputPath)
        #expect(model.defaultSignature?.inputs.map(\.name) == ["x"])
        let expected = try SourceCase.load("tf1")
        let outputs = try model.run(inputs: try expected.inputs.mapValues { try $0.tensor() })
        expectClose(outputs["y"], try expected.outputs["y"]!.tensor(), tolerance: 1e-6, source)
    }
}

/// Conversions that cannot succeed say why.
@Suite(.enabled(if: Fixtures.available, "run scripts/bootstrap to build the fixtures"))
struct ConversionErrorTests {
    static func failure(
        _ source: String, _ target: ConversionTarget, _ options: ConversionOptions = ConversionOptions()
    ) async throws -> ConversionError {
        let scratch = try ScratchDirectory()
        var options = options
        options.output = options.output ?? scratch.path("out-\(target)")
        let converter = try Converter()
        do throws(ConversionError) {
            let result = try await converting { () async throws(ConversionError) in
                try await converter.convert(source: source, target: target, options: options)
            }
            Issue.record("converted \(source) to \(result.outputPath)")
            return ConversionError(.conversionFailed, "no error")
        } catch {
            return error
        }
    }

    @Test func unknownFileType() async throws {
        let error = try await Self.failure(Fixtures.repositoryRoot.appendingPathComponent("README.md").path, .onnx)
        #expect(error.code == .unsupportedSource)
        #expect(error.message.contains("README.md is not a model Wharf converts"))
    }

    @Test func missingFile() async throws {
        let error = try await Self.failure("/nonexistent/model.keras", .savedModel)
        #expect(error.code == .sourceNotFound)
        #expect(error.message.contains("no model at /nonexistent/model.keras"))
    }

    @Test func int8WithoutCalibrationData() async throws {
        let error = try await Self.failure(Fixtures.savedModel("mlp"), .tflite, ConversionOptions(quantization: .int8))
        #expect(error.code == .missingCalibration)
        #expect(error.message.contains("int8 quantization needs --calibration-data"))
    }

    @Test func corruptSavedModel() async throws {
        let scratch = try ScratchDirectory()
        try FileManager.default.copyItem(atPath: Fixtures.savedModel("mlp"), toPath: scratch.path("broken"))
        try Data(repeating: 0xAB, count: 512).write(to: URL(fileURLWithPath: scratch.path("broken/saved_model.pb")))
        let error = try await Self.failure(scratch.path("broken"), .onnx)
        #expect(error.code == .invalidModel)
        #expect(error.message.contains("cannot read the SavedModel at \(scratch.path("broken"))"), "\(error.message)")
    }

    @Test func anOpTheConverterLacksIsNamed() async throws {
        let error = try await Self.failure(Fixtures.source("unsupported_op"), .onnx)
        #expect(error.code == .unsupportedOp)
        #expect(error.op == "Digamma")
        #expect(error.message == "tf2onnx cannot convert op 'Digamma' (opset 17)")
    }

    @Test func quantizingAnythingButTFLiteIsRejected() async throws {
        let error = try await Self.failure(Fixtures.savedModel("mlp"), .onnx, ConversionOptions(quantization: .float16))
        #expect(error.code == .invalidOptions)
    }

    @Test func anExistingOutputIsKept() async throws {
        let scratch = try ScratchDirectory()
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: scratch.path("model.onnx")))
        let error = try await Self.failure(Fixtures.savedModel("mlp"), .onnx, ConversionOptions(output: scratch.path("model.onnx")))
        #expect(error.code == .outputExists)
        #expect(try String(contentsOfFile: scratch.path("model.onnx"), encoding: .utf8) == "keep me")
    }

    @Test func aMissingPythonEnvironmentSaysToBootstrap() throws {
        let scratch = try ScratchDirectory()
        #expect {
            _ = try Converter(locator: RuntimeLocator(environment: [:], searchRoots: [scratch.url.path]))
        } throws: { error in
            let error = error as? ConversionError
            return error?.code == .environmentMissing && error?.message.contains("scripts/bootstrap") == true
        }
    }
}

/// Parity reports and thresholds without running a converter.
struct ParityReportTests {
    static func report(abs: Double, top1: Double?, thresholds: ParityThresholds) -> ParityReport {
        ParityReport(
            reference: "tensorflow", candidate: "test", inputs: "synthesized", sampleCount: 8,
            outputs: [ParityReport.Output(name: "y", maxAbsError: abs, maxRelError: abs, top1Agreement: top1)],
            thresholds: thresholds)
    }

    @Test func defaultThresholds() {
        #expect(ParityThresholds.defaults(for: .onnx) == ParityThresholds(maxAbsError: 1e-4))
        #expect(ParityThresholds.defaults(for: .tflite, quantization: .float16) == ParityThresholds(maxAbsError: 1e-2))
        #expect(ParityThresholds.defaults(for: .tflite, quantization: .dynamicRange) == ParityThresholds(maxAbsError: 5e-2, minTop1Agreement: 0.95))
        #expect(ParityThresholds.defaults(for: .tflite, quantization: .int8) == ParityThresholds(minTop1Agreement: 0.9))
        let overridden = ParityThresholds.defaults(for: .tflite, quantization: .int8).overridden(by: ParityThresholds(maxAbsError: 0.1))
        #expect(overridden == ParityThresholds(maxAbsError: 0.1, minTop1Agreement: 0.9))
    }

    @Test func thresholdsDecide() {
        let int8 = ParityThresholds.defaults(for: .tflite, quantization: .int8)
        #expect(Self.report(abs: 0.5, top1: 0.95, thresholds: int8).passed)
        let low = Self.report(abs: 0.5, top1: 0.85, thresholds: int8)
        #expect(!low.passed && low.outputs[0].failures == ["top-1 agreement 0.85 < 0.9"])
        #expect(Self.report(abs: 0.5, top1: nil, thresholds: int8).passed, "no top-1 for outputs without classes")
        #expect(!Self.report(abs: .infinity, top1: nil, thresholds: int8).passed, "NaN where the reference has a number fails")
        #expect(!Self.report(abs: 2e-4, top1: 1, thresholds: .defaults(for: .onnx)).passed)
    }

    @Test func reportsRoundTripThroughJSONWithInfinities() throws {
        let report = Self.report(abs: .infinity, top1: nil, thresholds: .defaults(for: .onnx))
        let data = try JSONEncoder().encode(report)
        #expect(String(decoding: data, as: UTF8.self).contains("\"max_abs_error\":\"Infinity\""))
        let decoded = try JSONDecoder().decode(ParityReport.self, from: data)
        #expect(decoded.outputs[0].maxAbsError == .infinity && !decoded.passed)
        #expect(decoded.sampleCount == 8 && decoded.thresholds == .defaults(for: .onnx))
    }
}
