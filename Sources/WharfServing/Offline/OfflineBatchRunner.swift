import Foundation
import Synchronization
public import WharfCore
import WharfProtocols
public import WharfRuntime

/// Offline batch inference: a large input set (JSON Lines of TF Serving row instances, or a .npy
/// array for a single-input model) run in batches on several instances in parallel, on dedicated
/// threads, with the answers in input order (one JSON object per row).
public struct OfflineBatchRunner: Sendable {
    public let models: [any InferenceModel]
    public let batchSize: Int
    public let signature: String?
    public let outputs: [String]?

    public init(models: [any InferenceModel], batchSize: Int, signature: String?, outputs: [String]?) {
        self.models = models
        self.batchSize = max(batchSize, 1)
        self.signature = signature
        self.outputs = outputs
    }

    /// The input set as batches of inputs, from a file's bytes.
    public func batches(fromFile path: String, contents: [UInt8]) throws -> [[String: Tensor]] {
        if path.hasSuffix(".npy") {
            let tensor = try NPYFile.read(contents, path: path)
            guard let spec = try resolvedSignature().inputs.first, try resolvedSignature().inputs.count == 1 else {
                throw CodecError(.invalidRequest, "a .npy input feeds a model with exactly one input")
            }
            return try stride(from: 0, to: tensor.rowCount, by: batchSize).map { start in
                [spec.name: try tensor.rows(start..<min(start + batchSize, tensor.rowCount))]
            }
        }
        var rows: [JSONValue] = []
        var lineNumber = 0
        for line in contents.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            guard line.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\t") }) else { continue }
            do {
                rows.append(try JSONValue.parse(Array(line)))
            } catch {
                throw CodecError(.malformedJSON, "\(path) line \(lineNumber): \(error.message)")
            }
        }
        let signature = try resolvedSignature()
        return try stride(from: 0, to: rows.count, by: batchSize).map { start in
            let chunk = Array(rows[start..<min(start + batchSize, rows.count)])
            do {
                return try TFServingJSON.decodePredictRequest(.object(JSONObject(["instances": .array(chunk)]))) { _ in signature }.inputs
            } catch {
                throw CodecError(.invalidRequest, "\(path) lines \(start + 1)-\(start + chunk.count): \(error)")
            }
        }
    }

    private func resolvedSignature() throws -> Signature {
        if let signature, !signature.isEmpty { return try models[0].signature(named: signature) }
        return try models[0].defaultSignature ?? models[0].signature(named: Signature.defaultKey)
    }

    /// Runs every batch; `progress(rowsDone)` is called from the worker threads as batches finish.
    /// Returns one JSON line per input row, in order.
    public func run(_ batches: [[String: Tensor]], progress: @Sendable (Int) -> Void) throws -> [[UInt8]] {
        let results = Mutex<[Int: Result<[[UInt8]], any Error>]>([:])
        let done = Atomic<Int>(0)
        let next = Atomic<Int>(0)
        let models = self.models
        let threads = models.count
        DispatchQueue.concurrentPerform(iterations: threads) { worker in
            let model = models[worker]
            while true {
                let index = next.add(1, ordering: .relaxed).oldValue
                guard index < batches.count else { return }
                let result = Result { try encode(try model.run(signature: signature, inputs: batches[index], outputs: outputs)) }
                let rows = batches[index].values.first?.rowCount ?? 0
                results.withLock { $0[index] = result }
                progress(done.add(rows, ordering: .relaxed).newValue)
            }
        }
        return try results.withLock { results in
            try (0..<batches.count).flatMap { try results[$0]!.get() }
        }
    }

    /// One JSON object per row: `{"output": row value, ...}`.
    private func encode(_ outputs: [String: Tensor]) throws -> [[UInt8]] {
        let names = outputs.keys.sorted()
        guard let rows = outputs.values.first?.rowCount, outputs.values.allSatisfy({ !$0.shape.isEmpty && $0.rowCount == rows }) else {
            throw CodecError(.invalidOutput, "every output needs the batch as its first dimension to be written row by row")
        }
        return try (0..<rows).map { row in
            var writer = JSONWriter()
            writer.append(UInt8(ascii: "{"))
            for (index, name) in names.enumerated() {
                if index > 0 { writer.append(UInt8(ascii: ",")) }
                writer.writeKey(name)
                let tensor = outputs[name]!
                TFServingJSON.writeTensor(try tensor.rows(row..<(row + 1)).reshaped(Array(tensor.shape.dropFirst())), name: name, into: &writer)
            }
            writer.append(UInt8(ascii: "}"))
            return writer.bytes
        }
    }
}

/// NumPy's .npy format (version 1 and 2 headers), little-endian arrays of the types Wharf serves.
enum NPYFile {
    static func read(_ bytes: [UInt8], path: String) throws -> Tensor {
        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        guard bytes.count > 10, Array(bytes[0..<6]) == magic else {
            throw CodecError(.invalidRequest, "\(path) is not a .npy file (no \\x93NUMPY magic)")
        }
        let major = bytes[6]
        let headerStart = major == 1 ? 10 : 12
        var headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        if major != 1 {
            headerLength |= Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        }
        guard headerStart + headerLength <= bytes.count else {
            throw CodecError(.invalidRequest, "\(path): .npy header runs past the end of the file")
        }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        func value(_ key: String) -> Substring? {
            guard let range = header.range(of: "'\(key)':") else { return nil }
            return header[range.upperBound...].drop { $0 == " " }
        }
        guard let descr = value("descr")?.split(separator: "'").first else {
            throw CodecError(.invalidRequest, "\(path): .npy header has no descr")
        }
        if value("fortran_order")?.hasPrefix("True") == true {
            throw CodecError(.invalidRequest, "\(path): Fortran-ordered arrays are not supported; save with np.ascontiguousarray")
        }
        let types: [String: DataType] = [
            "<f2": .float16, "<f4": .float32, "<f8": .float64, "|i1": .int8, "<i2": .int16, "<i4": .int32, "<i8": .int64,
            "|u1": .uint8, "<u2": .uint16, "<u4": .uint32, "<u8": .uint64, "|b1": .bool,
        ]
        guard let dtype = types[String(descr)] else {
            throw CodecError(.typeMismatch, "\(path): .npy dtype '\(descr)' is not one Wharf serves (little-endian numbers or bool)")
        }
        guard let shapeText = value("shape"), let open = shapeText.firstIndex(of: "("), let close = shapeText.firstIndex(of: ")") else {
            throw CodecError(.invalidRequest, "\(path): .npy header has no shape")
        }
        let shape = shapeText[shapeText.index(after: open)..<close].split(separator: ",").compactMap {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        let dataStart = headerStart + headerLength
        let byteCount = shape.reduce(1, *) * (dtype.byteWidth ?? 0)
        guard bytes.count - dataStart >= byteCount else {
            throw CodecError(.invalidRequest, "\(path): \(dtype) \(shape) needs \(byteCount) bytes, the file holds \(bytes.count - dataStart)")
        }
        return try Tensor(dtype: dtype, shape: shape) { raw in
            raw.copyBytes(from: bytes[dataStart..<(dataStart + byteCount)])
        }
    }
}
