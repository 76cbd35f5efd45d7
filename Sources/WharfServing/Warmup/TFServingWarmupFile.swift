import Foundation
import WharfCore
import WharfRuntime

/// Reads TF Serving's warm-up file: a TFRecord file (per record: 8-byte little-endian length, 4-byte
/// masked CRC of the length, the data, 4-byte masked CRC of the data) whose records are
/// `PredictionLog` protos; Wharf replays their `predict_log.request` (a `PredictRequest`).
enum TFServingWarmupFile {
    // Field numbers from tensorflow_serving/apis/prediction_log.proto, predict.proto and
    // tensorflow/core/framework/tensor.proto.
    private enum Field {
        static let predictLog = 6, request = 1
        static let modelSpec = 1, inputs = 2, signatureName = 3
        static let mapKey = 1, mapValue = 2
        static let dtype = 1, shape = 2, content = 4, floatValues = 5, doubleValues = 6, intValues = 7
        static let stringValues = 8, int64Values = 10, boolValues = 11, halfValues = 13, uint32Values = 16
        static let uint64Values = 17
        static let shapeDim = 2, dimSize = 1
    }

    static func read(path: String) throws -> [WarmupRequest] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RuntimeError(.modelInvalid, "cannot read the warm-up file \(path)")
        }
        let bytes = [UInt8](data)
        var offset = 0
        var requests: [WarmupRequest] = []
        while offset < bytes.count {
            guard offset + 12 <= bytes.count else {
                throw RuntimeError(.modelInvalid, "\(path): TFRecord header truncated at byte \(offset)")
            }
            var length = 0
            for index in 0..<8 { length |= Int(bytes[offset + index]) << (8 * index) }
            let start = offset + 12
            guard length >= 0, start + length + 4 <= bytes.count else {
                throw RuntimeError(.modelInvalid, "\(path): TFRecord of \(length) bytes at byte \(offset) runs past the end")
            }
            do {
                if let request = try predictRequest(inLog: bytes[start..<(start + length)]) { requests.append(request) }
            } catch let error as RuntimeError {
                throw error
            } catch {
                throw RuntimeError(.modelInvalid, "\(path): record \(requests.count) is not a PredictionLog", cause: error)
            }
            offset = start + length + 4
        }
        return requests
    }

    private static func predictRequest(inLog bytes: ArraySlice<UInt8>) throws -> WarmupRequest? {
        var log = ProtoReader(bytes)
        while let (field, value) = try log.next() {
            guard field == Field.predictLog, let predictLog = value.asBytes else { continue }
            var reader = ProtoReader(predictLog)
            while let (inner, requestValue) = try reader.next() {
                if inner == Field.request, let request = requestValue.asBytes { return try parseRequest(request) }
            }
        }
        return nil
    }

    private static func parseRequest(_ bytes: ArraySlice<UInt8>) throws -> WarmupRequest {
        var request = WarmupRequest(signature: nil, inputs: [:])
        var reader = ProtoReader(bytes)
        while let (field, value) = try reader.next() {
            switch field {
            case Field.modelSpec:
                var spec = ProtoReader(value.asBytes ?? [])
                while let (specField, specValue) = try spec.next() {
                    if specField == Field.signatureName { request.signature = specValue.asString }
                }
            case Field.inputs:
                var entry = ProtoReader(value.asBytes ?? [])
                var name = ""
                var tensor: ArraySlice<UInt8> = []
                while let (entryField, entryValue) = try entry.next() {
                    if entryField == Field.mapKey { name = entryValue.asString ?? "" }
                    if entryField == Field.mapValue { tensor = entryValue.asBytes ?? [] }
                }
                request.inputs[name] = try parseTensor(tensor, name: name)
            default:
                continue
            }
        }
        return request
    }

    /// A TensorProto: `tensor_content` bytes, or the typed value lists (one value fills the tensor).
    static func parseTensor(_ bytes: ArraySlice<UInt8>, name: String) throws -> Tensor {
        var dtypeCode: Int32 = 0
        var shape: [Int] = []
        var content: ArraySlice<UInt8>?
        var numbers: [UInt64] = []  // raw varints or fixed-width bit patterns, in order
        var strings: [[UInt8]] = []
        var reader = ProtoReader(bytes)
        while let (field, value) = try reader.next() {
            switch (field, value) {
            case (Field.dtype, .varint(let code)):
                dtypeCode = Int32(truncatingIfNeeded: code)
            case (Field.shape, .bytes(let shapeBytes)):
                var shapeReader = ProtoReader(shapeBytes)
                while let (shapeField, dim) = try shapeReader.next() {
                    guard shapeField == Field.shapeDim else { continue }
                    var dimReader = ProtoReader(dim.asBytes ?? [])
                    var size: Int64 = 0
                    while let (dimField, dimValue) = try dimReader.next() {
                        if dimField == Field.dimSize { size = dimValue.asInt64 ?? 0 }
                    }
                    shape.append(Int(size))
                }
            case (Field.content, .bytes(let raw)):
                content = raw
            case (Field.stringValues, .bytes(let raw)):
                strings.append(Array(raw))
            case (Field.floatValues, .bytes(let packed)):
                numbers += stride(from: packed.startIndex, to: packed.endIndex - 3, by: 4).map { index in
                    (0..<4).reduce(UInt64(0)) { $0 | UInt64(packed[index + $1]) << (8 * UInt64($1)) }
                }
            case (Field.doubleValues, .bytes(let packed)):
                numbers += stride(from: packed.startIndex, to: packed.endIndex - 7, by: 8).map { index in
                    (0..<8).reduce(UInt64(0)) { $0 | UInt64(packed[index + $1]) << (8 * UInt64($1)) }
                }
            case (Field.intValues, .bytes(let packed)), (Field.int64Values, .bytes(let packed)),
                (Field.boolValues, .bytes(let packed)), (Field.halfValues, .bytes(let packed)),
                (Field.uint32Values, .bytes(let packed)), (Field.uint64Values, .bytes(let packed)):
                numbers += try varints(packed)
            case (Field.intValues, .varint(let raw)), (Field.int64Values, .varint(let raw)), (Field.boolValues, .varint(let raw)),
                (Field.halfValues, .varint(let raw)), (Field.uint32Values, .varint(let raw)), (Field.uint64Values, .varint(let raw)):
                numbers.append(raw)
            default:
                continue
            }
        }
        guard let dtype = TFDataType.dataType(code: dtypeCode) else {
            throw RuntimeError(.unsupportedModel, "warm-up input '\(name)' has type \(TFDataType.name(code: dtypeCode))")
        }
        let count = shape.reduce(1, *)
        if dtype == .string {
            let elements = strings.count == 1 && count > 1 ? Array(repeating: strings[0], count: count) : strings
            return try Tensor(shape: shape, strings: elements)
        }
        let width = dtype.byteWidth!
        return try Tensor(dtype: dtype, shape: shape) { raw in
            if let content {
                guard content.count == raw.count else {
                    throw RuntimeError(.modelInvalid, "warm-up input '\(name)': tensor_content has \(content.count) bytes, \(dtype) \(shape) needs \(raw.count)")
                }
                raw.copyBytes(from: content)
                return
            }
            guard numbers.count == count || (numbers.count == 1 && count > 0) || count == 0 else {
                throw RuntimeError(.modelInvalid, "warm-up input '\(name)' holds \(numbers.count) values for shape \(shape)")
            }
            for index in 0..<count {
                let bits = numbers.count == 1 ? numbers[0] : numbers[index]
                withUnsafeBytes(of: bits.littleEndian) { source in
                    (raw.baseAddress! + index * width).copyMemory(from: source.baseAddress!, byteCount: width)
                }
            }
        }
    }

    private static func varints(_ packed: ArraySlice<UInt8>) throws -> [UInt64] {
        var values: [UInt64] = []
        var current: UInt64 = 0
        var shift: UInt64 = 0
        for byte in packed {
            current |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 {
                values.append(current)
                current = 0
                shift = 0
            } else {
                shift += 7
                guard shift < 64 else { throw RuntimeError(.modelInvalid, "malformed packed varints in a warm-up tensor") }
            }
        }
        return values
    }
}
