#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
import WharfCore
@testable import WharfProtocols

/// Request bodies like `Benchmarks/serve/make_bodies.py` writes: one MLP row of 784 float32
/// values, each written as Python writes the float32 widened to a double (up to 17 digits).
enum BenchBodies {
    static let pixels: [Float] = {
        var generator = SeededGenerator(seed: 3)
        return (0..<784).map { _ in Float(generator.next() >> 40) / Float(1 << 24) }
    }()

    static let pixelText = text(pixels)

    static func text(_ values: [Float]) -> String {
        "[" + values.map { Double($0).description }.joined(separator: ", ") + "]"
    }

    /// `count` V2 bodies like `v2`, each with its own values, with the values each holds.
    static func variedV2(count: Int) -> [(body: [UInt8], values: [Float])] {
        var generator = SeededGenerator(seed: 11)
        return (0..<count).map { _ in
            let values = (0..<784).map { _ in Float(generator.next() >> 40) / Float(1 << 24) }
            let body = Array(
                (#"{"inputs": [{"name": "pixels", "shape": [1, 784], "datatype": "FP32", "data": "# + text(values) + "}]}").utf8)
            return (body, values)
        }
    }

    static let v2 = Array(
        (#"{"inputs": [{"name": "pixels", "shape": [1, 784], "datatype": "FP32", "data": "# + pixelText + "}]}").utf8)

    static let predict = Array((#"{"instances": ["# + pixelText + "]}").utf8)

    static let signature = Signature(
        key: Signature.defaultKey, inputs: [TensorSpec(name: "pixels", dtype: .float32, shape: TensorShape([-1, 784]))],
        outputs: [TensorSpec(name: "probabilities", dtype: .float32, shape: TensorShape([-1, 10]))])

    static let probabilities: [String: Tensor] = {
        var generator = SeededGenerator(seed: 7)
        let values = (0..<10).map { _ in Float(generator.next() >> 40) / Float(1 << 24) }
        return ["probabilities": try! Tensor(shape: [1, 10], scalars: values)]
    }()
}

private let benchEnabled = getenv("WHARF_CODEC_BENCH").map { String(cString: $0) == "1" } ?? false

/// Codec microbenchmarks; run with `WHARF_CODEC_BENCH=1 swift test -c release -Xswiftc -enable-testing
/// --scratch-path .build-release --filter CodecBench`. "before" is the tree decoder with the old
/// number conversion (the code before the direct decoder); "after" is the public entry point.
@Suite(.enabled(if: benchEnabled, "set WHARF_CODEC_BENCH=1 to run the codec benchmarks"), .serialized)
struct CodecBench {
    /// The median over `rounds` rounds of the mean time of one call, in nanoseconds.
    private func measure(rounds: Int = 15, iterations: Int, _ body: () throws -> Void) rethrows -> Double {
        for _ in 0..<(iterations / 4 + 1) { try body() }
        var samples: [Double] = []
        let clock = ContinuousClock()
        for _ in 0..<rounds {
            let start = clock.now
            for _ in 0..<iterations { try body() }
            let elapsed = clock.now - start
            let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
            samples.append(nanoseconds / Double(iterations))
        }
        samples.sort()
        return samples[samples.count / 2]
    }

    private func report(_ name: String, before: Double, after: Double) {
        let line = "CodecBench \(name): before \(Int(before.rounded())) ns, after \(Int(after.rounded())) ns, "
            + "\(String(Int((before / after * 10).rounded()) / 10)).\(Int((before / after * 10).rounded()) % 10)x"
        print(line)
    }

    @Test func v2DecodeOneMLPRow() throws {
        let body = BenchBodies.v2
        let expected = try body.withUnsafeBytes { try KServeV2.decodeInferRequest($0, headerLength: nil) }
        #expect(try expected.inputs["pixels"]?.scalars(as: Float.self) == BenchBodies.pixels)
        let before = try body.withUnsafeBufferPointer { bytes in
            try measure(iterations: 2000) {
                _ = try KServeV2.decodeTree(header: bytes, binary: UnsafeRawBufferPointer(start: nil, count: 0), legacyNumbers: true)
            }
        }
        let after = try body.withUnsafeBytes { raw in
            try measure(iterations: 2000) { _ = try KServeV2.decodeInferRequest(raw, headerLength: nil) }
        }
        report("V2 JSON decode 1x784 float32 (\(body.count) bytes)", before: before, after: after)
    }

    /// The same decode over 64 different bodies in turn. A server decodes a different body each
    /// time, with other work in between, so the branch predictor cannot learn one body's digit
    /// counts as it can when one body is decoded over and over.
    @Test func v2DecodeVariedMLPRows() throws {
        let bodies = BenchBodies.variedV2(count: 64)
        for (body, values) in bodies {
            let decoded = try body.withUnsafeBytes { try KServeV2.decodeInferRequest($0, headerLength: nil) }
            #expect(try decoded.inputs["pixels"]?.scalars(as: Float.self) == values)
        }
        var next = 0
        let varied = try measure(iterations: 2048) {
            try bodies[next].body.withUnsafeBytes { _ = try KServeV2.decodeInferRequest($0, headerLength: nil) }
            next = (next + 1) & 63
        }
        let same = try bodies[0].body.withUnsafeBytes { raw in
            try measure(iterations: 2048) { _ = try KServeV2.decodeInferRequest(raw, headerLength: nil) }
        }
        print("CodecBench V2 JSON decode 1x784 float32, 64 bodies in turn: \(Int(varied.rounded())) ns (one body: \(Int(same.rounded())) ns)")
    }

    @Test func tfServingDecodeOneMLPRow() throws {
        let body = BenchBodies.predict
        let signature = BenchBodies.signature
        let expected = try TFServingJSON.decodePredictRequest(body) { _ in signature }
        #expect(try expected.inputs["pixels"]?.scalars(as: Float.self) == BenchBodies.pixels)
        let before = try body.withUnsafeBufferPointer { bytes in
            try measure(iterations: 2000) {
                _ = try TFServingJSON.decodeTree(
                    bytes: bytes, maximumDepth: JSONValue.defaultMaximumDepth, legacyNumbers: true) { _ in signature }
            }
        }
        let after = try body.withUnsafeBytes { raw in
            try measure(iterations: 2000) { _ = try TFServingJSON.decodePredictRequest(raw) { _ in signature } }
        }
        report("TF Serving row decode 1x784 float32 (\(body.count) bytes)", before: before, after: after)
    }

    /// A V2 binary request as `Benchmarks/perf/make_repo.py` writes it: a small JSON header, then
    /// the 784 float32 values as raw bytes; and the binary answer of ten floats.
    @Test func v2BinaryOneMLPRow() throws {
        let header = Array(#"{"inputs": [{"name": "pixels", "shape": [1, 784], "datatype": "FP32", "parameters": {"binary_data_size": 3136}}], "parameters": {"binary_data_output": true}}"#.utf8)
        let body = header + BenchBodies.pixels.withUnsafeBytes { Array($0) }
        let expected = try body.withUnsafeBytes { try KServeV2.decodeInferRequest($0, headerLength: header.count) }
        #expect(try expected.inputs["pixels"]?.scalars(as: Float.self) == BenchBodies.pixels)
        let decode = try body.withUnsafeBytes { raw in
            try measure(iterations: 20_000) { _ = try KServeV2.decodeInferRequest(raw, headerLength: header.count) }
        }
        let encode = measure(iterations: 20_000) {
            _ = KServeV2.encodeInferResponse(
                modelName: "mlp", modelVersion: "1", id: nil, outputs: BenchBodies.probabilities, order: ["probabilities"],
                binary: { _ in true })
        }
        print("CodecBench V2 binary decode 1x784 float32 (\(header.count)-byte header): \(Int(decode.rounded())) ns")
        print("CodecBench V2 binary response encode 1x10 float32: \(Int(encode.rounded())) ns")
    }

    /// The writer is unchanged (Swift's own shortest round-trip `description` for floats): this
    /// shows what a response costs and how much of it the ten floats take.
    @Test func encodeOneMLPResponse() throws {
        let outputs = BenchBodies.probabilities
        let v2 = measure(iterations: 20_000) {
            _ = KServeV2.encodeInferResponse(
                modelName: "mlp", modelVersion: "1", id: nil, outputs: outputs, order: ["probabilities"], binary: { _ in false })
        }
        let tf = try measure(iterations: 20_000) { _ = try TFServingJSON.encodePredictResponse(outputs, format: .row) }
        let values = try outputs["probabilities"]!.scalars(as: Float.self)
        let floats = measure(iterations: 20_000) {
            var writer = JSONWriter(reservingCapacity: 256)
            for value in values { writer.writeFloat(value) }
        }
        print("CodecBench V2 JSON response encode 1x10 float32: \(Int(v2.rounded())) ns (unchanged)")
        print("CodecBench TF Serving response encode 1x10 float32: \(Int(tf.rounded())) ns (unchanged)")
        print("CodecBench of which writing the 10 floats: \(Int(floats.rounded())) ns")
    }
}
