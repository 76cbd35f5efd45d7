import Foundation
import Synchronization
import Testing
import WharfCore
import WharfPipeline
import WharfTesting

/// Conversions several tests look at, each run once per test process in one scratch directory.
actor SharedConversions {
    static let shared = SharedConversions()

    let directory: URL
    private var running: [String: Task<ConversionResult, any Error>] = [:]

    init() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("wharf-conversions-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// The mlp fixture converted to `target` with `quantization` (int8 calibrated on the fixture's
    /// calibration set), with parity checked in the same run.
    func mlp(_ target: ConversionTarget, _ quantization: Quantization = .float32) async throws -> ConversionResult {
        let key = "mlp-\(target)-\(quantization)"
        if let task = running[key] { return try await task.value }
        let output = directory.appendingPathComponent(key + (target == .onnx ? ".onnx" : ".tflite")).path
        let options = ConversionOptions(
            output: output, quantization: quantization,
            calibrationData: quantization == .int8 ? Fixtures.source("calibration.npy") : nil, parity: ParityOptions())
        let task = Task {
            try await converting { try await Converter().convert(source: Fixtures.savedModel("mlp"), target: target, options: options) }
        }
        running[key] = task
        return try await task.value
    }
}

/// Runs `body` once one of three converter slots is free: each converter process loads
/// TensorFlow (about 0.5 GB), and more at once than cores only costs memory.
func converting<T, E: Error>(_ body: () async throws(E) -> T) async throws(E) -> T {
    await ConverterSlots.shared.acquire()
    do {
        let result = try await body()
        await ConverterSlots.shared.release()
        return result
    } catch {
        await ConverterSlots.shared.release()
        throw error
    }
}

actor ConverterSlots {
    static let shared = ConverterSlots(slots: 3)

    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(slots: Int) { free = slots }

    func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty {
            free += 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}

/// Progress lines a converter reported.
final class ProgressLog: Sendable {
    private let lines = Mutex<[String]>([])

    var handler: Converter.ProgressHandler { { line in self.lines.withLock { $0.append(line) } } }
    var all: [String] { lines.withLock { $0 } }
}

/// A scratch directory removed with the object.
final class ScratchDirectory: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("wharf-convert-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}

/// sources/expected.json: inputs and the outputs Python computed, per converter source.
struct SourceCase: Decodable {
    var inputs: [String: EncodedTensor]
    var outputs: [String: EncodedTensor]

    static func load(_ name: String) throws -> SourceCase {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.source("expected.json")))
        let all = try JSONDecoder().decode([String: SourceCase].self, from: data)
        return try #require(all[name])
    }
}

/// Expects `actual` within `tolerance` of `expected`, element by element.
func expectClose(_ actual: Tensor?, _ expected: Tensor, tolerance: Double, _ context: String) {
    guard let actual else {
        Issue.record("\(context): output missing")
        return
    }
    #expect(actual.shape == expected.shape, "\(context): shape \(actual.shape) vs \(expected.shape)")
    let difference = actual.maxAbsoluteDifference(to: expected)
    #expect(difference != nil && difference! <= tolerance, "\(context): max |diff| \(String(describing: difference))")
}
