import WharfCore

/// The parts of a serialized MetaGraphDef Wharf needs: tags, the TensorFlow version that wrote it,
/// and every SignatureDef with the graph tensor behind each input and output key.
struct MetaGraphDef {
    /// One input or output of a SignatureDef.
    struct TensorBinding {
        var key: String
        /// The graph tensor, as `operation:index`.
        var tensorName: String
        var dtypeCode: Int32
        var shape: TensorShape
    }

    /// One SignatureDef.
    struct SignatureDef {
        var key: String
        var methodName: String
        var inputs: [TensorBinding]
        var outputs: [TensorBinding]
    }

    var tags: [String] = []
    var tensorflowVersion: String?
    var signatures: [SignatureDef] = []

    // Field numbers from tensorflow/core/protobuf/meta_graph.proto and friends.
    private enum Field {
        static let metaInfoDef = 1, signatureDef = 5
        static let metaInfoTags = 4, metaInfoTensorflowVersion = 5
        static let mapKey = 1, mapValue = 2
        static let signatureInputs = 1, signatureOutputs = 2, signatureMethodName = 3
        static let tensorInfoName = 1, tensorInfoDtype = 2, tensorInfoShape = 3
        static let shapeDim = 2, shapeUnknownRank = 3, dimSize = 1
    }

    init(serialized bytes: ArraySlice<UInt8>) throws {
        var reader = ProtoReader(bytes)
        while let (field, value) = try reader.next() {
            switch field {
            case Field.metaInfoDef:
                try parseMetaInfo(value.asBytes ?? [])
            case Field.signatureDef:
                let (key, body) = try MetaGraphDef.mapEntry(value.asBytes ?? [])
                signatures.append(try MetaGraphDef.signature(key: key, body))
            default:
                continue
            }
        }
        signatures.sort { $0.key < $1.key }
    }

    private mutating func parseMetaInfo(_ bytes: ArraySlice<UInt8>) throws {
        var reader = ProtoReader(bytes)
        while let (field, value) = try reader.next() {
            if field == Field.metaInfoTags, let tag = value.asString { tags.append(tag) }
            if field == Field.metaInfoTensorflowVersion { tensorflowVersion = value.asString }
        }
    }

    /// A `map<string, Message>` entry: its key and the value's bytes.
    private static func mapEntry(_ bytes: ArraySlice<UInt8>) throws -> (String, ArraySlice<UInt8>) {
        var reader = ProtoReader(bytes)
        var key = ""
        var body: ArraySlice<UInt8> = []
        while let (field, value) = try reader.next() {
            if field == Field.mapKey { key = value.asString ?? "" }
            if field == Field.mapValue { body = value.asBytes ?? [] }
        }
        return (key, body)
    }

    private static func signature(key: String, _ bytes: ArraySlice<UInt8>) throws -> SignatureDef {
        var signature = SignatureDef(key: key, methodName: "", inputs: [], outputs: [])
        var reader = ProtoReader(bytes)
        while let (field, value) = try reader.next() {
            switch field {
            case Field.signatureInputs, Field.signatureOutputs:
                let (name, body) = try mapEntry(value.asBytes ?? [])
                let binding = try tensorBinding(key: name, body)
                if field == Field.signatureInputs {
                    signature.inputs.append(binding)
                } else {
                    signature.outputs.append(binding)
                }
            case Field.signatureMethodName:
                signature.methodName = value.asString ?? ""
            default:
                continue
            }
        }
        signature.inputs.sort { $0.key < $1.key }
        signature.outputs.sort { $0.key < $1.key }
        return signature
    }

    private static func tensorBinding(key: String, _ bytes: ArraySlice<UInt8>) throws -> TensorBinding {
        var binding = TensorBinding(key: key, tensorName: "", dtypeCode: 0, shape: .unknownRank)
        var reader = ProtoReader(bytes)
        while let (field, value) = try reader.next() {
            switch field {
            case Field.tensorInfoName: binding.tensorName = value.asString ?? ""
            case Field.tensorInfoDtype: binding.dtypeCode = Int32(truncatingIfNeeded: value.asInt64 ?? 0)
            case Field.tensorInfoShape: binding.shape = try shape(value.asBytes ?? [])
            default: continue
            }
        }
        return binding
    }

    private static func shape(_ bytes: ArraySlice<UInt8>) throws -> TensorShape {
        var dims: [Int] = []
        var unknownRank = false
        var reader = ProtoReader(bytes)
        while let (field, value) = try reader.next() {
            if field == Field.shapeDim {
                var size: Int64 = -1
                var dimReader = ProtoReader(value.asBytes ?? [])
                while let (dimField, dimValue) = try dimReader.next() {
                    if dimField == Field.dimSize { size = dimValue.asInt64 ?? -1 }
                }
                dims.append(Int(size))
            }
            if field == Field.shapeUnknownRank, case .varint(let flag) = value, flag != 0 { unknownRank = true }
        }
        return unknownRank ? .unknownRank : TensorShape(dims)
    }
}
