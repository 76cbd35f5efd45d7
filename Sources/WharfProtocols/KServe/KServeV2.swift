public import WharfCore

/// The KServe V2 (Open Inference Protocol) REST inference codec, with the binary tensor data
/// extension: a JSON header, optionally followed by raw tensor bytes whose JSON part's length is in
/// the `Inference-Header-Content-Length` header.
public enum KServeV2 {
    /// The HTTP header that gives the length of the JSON part of a binary request or response.
    public static let headerLengthField = "Inference-Header-Content-Length"

    /// An output a request asks for.
    public struct RequestedOutput: Sendable, Hashable {
        public var name: String
        /// Whether the client wants it as binary data (`nil`: the request's default).
        public var binary: Bool?
    }

    /// A decoded inference request.
    public struct InferRequest: Sendable {
        /// The request id, echoed in the response.
        public var id: String?
        /// The input tensors by name.
        public var inputs: [String: Tensor]
        /// The outputs asked for, in order; `nil` for all of them.
        public var outputs: [RequestedOutput]?
        /// `parameters.binary_data_output`: every output as binary unless it says otherwise.
        public var binaryOutputs: Bool
        /// `parameters.signature_name` (a Wharf extension): the signature to run.
        public var signatureName: String?
    }

    /// Decodes an inference request. `headerLength` is the `Inference-Header-Content-Length` value
    /// when the request carries binary data (`nil` for a plain JSON body).
    ///
    /// Tensor `data` is decoded straight from the text into tensor storage when the input's
    /// datatype and shape are known (before or after `data` in its object); a body the direct path
    /// does not take is decoded through a `JSONValue` tree, with the same result or error.
    public static func decodeInferRequest(_ body: UnsafeRawBufferPointer, headerLength: Int?) throws(CodecError) -> InferRequest {
        let jsonLength = headerLength ?? body.count
        guard jsonLength >= 0, jsonLength <= body.count else {
            throw CodecError(
                .invalidRequest,
                "\(headerLengthField) is \(jsonLength), but the request body holds only \(body.count) bytes")
        }
        let header = UnsafeRawBufferPointer(rebasing: body[0..<jsonLength]).assumingMemoryBound(to: UInt8.self)
        let binary = UnsafeRawBufferPointer(rebasing: body[jsonLength...])
        if let request = try? decodeDirect(header: header, binary: binary) { return request }
        return try decodeTree(header: header, binary: binary)
    }

    /// Decodes an inference request by way of a `JSONValue` tree of the whole header (the only way
    /// before the direct decoder; errors are always reported this way). `legacyNumbers: true` gives
    /// the old number conversion too, for comparisons.
    static func decodeTree(
        header: UnsafeBufferPointer<UInt8>, binary: UnsafeRawBufferPointer, legacyNumbers: Bool = false
    ) throws(CodecError) -> InferRequest {
        var parser = JSONParser(bytes: header, maximumDepth: JSONValue.defaultMaximumDepth, legacyNumbers: legacyNumbers)
        let value = try parser.parseDocument()
        guard case .object(let root) = value else {
            throw CodecError(.invalidRequest, "an inference request must be a JSON object, got \(value.briefDescription)")
        }
        return try decodeRequest(root: root, dataSources: nil, header: header, binary: binary)
    }

    /// The direct path: the header is parsed into a tree except for the `data` of the inputs,
    /// which go straight into tensors. Throws (anything) where it gives up.
    static func decodeDirect(header: UnsafeBufferPointer<UInt8>, binary: UnsafeRawBufferPointer) throws(CodecError) -> InferRequest {
        var parser = JSONParser(bytes: header, maximumDepth: JSONValue.defaultMaximumDepth)
        parser.skipByteOrderMark()
        parser.skipWhitespace()
        guard parser.position < header.count, header[parser.position] == UInt8(ascii: "{") else {
            throw DirectDecoding.fallBack
        }
        let (root, dataSources) = try parser.parseInferRequestRoot()
        try parser.expectEndOfInput()
        return try decodeRequest(root: root, dataSources: dataSources, header: header, binary: binary)
    }

    /// Where an input's data is.
    enum DataSource {
        /// No `data` member.
        case absent
        /// The `data` value as a tree.
        case tree(JSONValue)
        /// Already decoded, for the datatype and shape the input object gave before `data`.
        case tensor(Tensor)
        /// Scalars and lists of scalars at this range of the header, to decode once the datatype
        /// and shape are known.
        case range(Range<Int>)

        var isAbsent: Bool {
            if case .absent = self { return true }
            return false
        }
    }

    /// Everything after parsing. `dataSources` gives the data of the elements of the first
    /// `inputs` member (whose objects then have no `data` member); `nil` to take `data` from the
    /// input objects.
    private static func decodeRequest(
        root: JSONObject, dataSources: [DataSource]?, header: UnsafeBufferPointer<UInt8>, binary binaryBytes: UnsafeRawBufferPointer
    ) throws(CodecError) -> InferRequest {
        var binary = BinaryReader(bytes: binaryBytes)
        var request = InferRequest(id: nil, inputs: [:], outputs: nil, binaryOutputs: false, signatureName: nil)
        if let id = root["id"] {
            guard case .string(let text) = id else { throw CodecError(.invalidRequest, "id expects a string, got \(id.briefDescription)") }
            request.id = text
        }
        if let parameters = root["parameters"] {
            guard case .object(let object) = parameters else {
                throw CodecError(.invalidRequest, "parameters expects an object, got \(parameters.briefDescription)")
            }
            if let flag = object["binary_data_output"] {
                guard case .bool(let value) = flag else {
                    throw CodecError(.invalidRequest, "parameters.binary_data_output expects true or false, got \(flag.briefDescription)")
                }
                request.binaryOutputs = value
            }
            if let name = object["signature_name"] {
                guard case .string(let value) = name else {
                    throw CodecError(.invalidRequest, "parameters.signature_name expects a string, got \(name.briefDescription)")
                }
                request.signatureName = value
            }
        }
        guard case .array(let inputs) = root["inputs"] ?? .null, !inputs.isEmpty else {
            throw CodecError(.invalidRequest, "an inference request needs \"inputs\": a non-empty list of tensors")
        }
        request.inputs.reserveCapacity(inputs.count)
        for (index, input) in inputs.enumerated() {
            let (name, tensor) = try decodeInput(
                input, index: index, dataSource: dataSources?[index], header: header, binary: &binary)
            guard request.inputs[name] == nil else {
                throw CodecError(.invalidRequest, "input '\(name)' appears more than once")
            }
            request.inputs[name] = tensor
        }
        guard binary.remaining == 0 else {
            throw CodecError(
                .invalidRequest,
                "the request carries \(binary.remaining) bytes of binary data that no input claims (binary_data_size)")
        }
        if let outputs = root["outputs"] {
            guard case .array(let list) = outputs else {
                throw CodecError(.invalidRequest, "outputs expects a list, got \(outputs.briefDescription)")
            }
            request.outputs = try list.enumerated().map { (index, output) throws(CodecError) in
                guard case .object(let object) = output, case .string(let name) = object["name"] ?? .null else {
                    throw CodecError(.invalidRequest, "outputs[\(index)] expects an object with a \"name\"")
                }
                var binary: Bool?
                if case .object(let parameters) = object["parameters"] ?? .null, let flag = parameters["binary_data"] {
                    guard case .bool(let value) = flag else {
                        throw CodecError(.invalidRequest, "outputs[\(index)].parameters.binary_data expects true or false")
                    }
                    binary = value
                }
                return RequestedOutput(name: name, binary: binary)
            }
        }
        return request
    }

    /// The element type a V2 datatype name (`FP32`, `BYTES`, ...) stands for.
    static func dataType(v2Name name: String) -> DataType? {
        DataType.allCases.first(where: { $0.v2Name == name })
    }

    /// An input's `shape` value as dimensions, with its element count.
    static func shape(of value: JSONValue?, input name: String) throws(CodecError) -> (dimensions: [Int], elementCount: Int) {
        guard case .array(let shapeValues) = value ?? .null else {
            throw CodecError(.invalidRequest, "input '\(name)' needs a \"shape\": a list of dimension sizes")
        }
        var shape: [Int] = []
        shape.reserveCapacity(shapeValues.count)
        var elementCount = 1
        for value in shapeValues {
            guard case .int(let dimension) = value, dimension >= 0, let size = Int(exactly: dimension) else {
                throw CodecError(.invalidRequest, "input '\(name)' shape expects non-negative integers, got \(value.briefDescription)")
            }
            let (product, overflow) = elementCount.multipliedReportingOverflow(by: size)
            guard !overflow, product <= 1 << 40 else {
                throw CodecError(.invalidRequest, "input '\(name)' shape \(shape + [size]) has more elements than a tensor can hold")
            }
            shape.append(size)
            elementCount = product
        }
        return (shape, elementCount)
    }

    private static func decodeInput(
        _ input: JSONValue, index: Int, dataSource: DataSource?, header: UnsafeBufferPointer<UInt8>, binary: inout BinaryReader
    ) throws(CodecError) -> (String, Tensor) {
        guard case .object(let object) = input else {
            throw CodecError(.invalidRequest, "inputs[\(index)] expects a tensor object, got \(input.briefDescription)")
        }
        guard case .string(let name) = object["name"] ?? .null else {
            throw CodecError(.invalidRequest, "inputs[\(index)] needs a \"name\" string")
        }
        guard case .string(let datatypeName) = object["datatype"] ?? .null else {
            throw CodecError(.invalidRequest, "input '\(name)' needs a \"datatype\" (FP32, INT64, BYTES, ...)")
        }
        guard let dtype = dataType(v2Name: datatypeName) else {
            throw CodecError(
                .typeMismatch,
                "input '\(name)' has datatype '\(datatypeName)'; expected one of \(DataType.allCases.map(\.v2Name).joined(separator: ", "))")
        }
        let (shape, elementCount) = try Self.shape(of: object["shape"], input: name)
        var binarySize: Int?
        if case .object(let parameters) = object["parameters"] ?? .null, let size = parameters["binary_data_size"] {
            guard case .int(let value) = size, value >= 0, let count = Int(exactly: value) else {
                throw CodecError(.invalidRequest, "input '\(name)' parameters.binary_data_size expects a non-negative integer")
            }
            binarySize = count
        }
        let data = dataSource ?? object["data"].map { DataSource.tree($0) } ?? .absent
        if let binarySize {
            guard data.isAbsent else {
                throw CodecError(.invalidRequest, "input '\(name)' has both \"data\" and binary_data_size; send one")
            }
            guard let bytes = binary.take(binarySize) else {
                throw CodecError(
                    .invalidRequest,
                    "input '\(name)' declares \(binarySize) bytes of binary data, but only \(binary.remaining) remain in the body")
            }
            return (name, try binaryTensor(name: name, dtype: dtype, shape: shape, bytes: bytes))
        }
        switch data {
        case .absent:
            throw CodecError(.invalidRequest, "input '\(name)' needs \"data\" or parameters.binary_data_size")
        case .tensor(let tensor):
            guard tensor.dtype == dtype, tensor.shape == shape else { throw DirectDecoding.fallBack }
            return (name, tensor)
        case .range(let range):
            // Every element takes at least a byte, which bounds what is allocated.
            guard elementCount <= range.count else { throw DirectDecoding.fallBack }
            let flat = try directTensor(dtype: dtype, shape: shape, from: header, ranges: [range], perRange: elementCount)
            return (name, flat)
        case .tree(let data):
            var leaves: [JSONValue] = []
            leaves.reserveCapacity(min(elementCount, header.count))
            try flatten(data, into: &leaves, name: name, limit: elementCount)
            guard leaves.count == elementCount else {
                throw CodecError(
                    .invalidRequest,
                    "input '\(name)' shape \(shape.shapeDescription) holds \(elementCount) elements, data has \(leaves.count)")
            }
            let location = InputLocation(name: name, dtype: dtype, layout: .columnar(named: true))
            let flat = try makeTensor(parts: [.array(leaves)], stacked: false, location: location)
            do {
                return (name, try flat.reshaped(shape))
            } catch {
                throw CodecError(.invalidRequest, "input '\(name)': \(error.message)", cause: error)
            }
        }
    }

    private static func flatten(_ value: JSONValue, into leaves: inout [JSONValue], name: String, limit: Int) throws(CodecError) {
        if case .array(let elements) = value {
            for element in elements { try flatten(element, into: &leaves, name: name, limit: limit) }
        } else {
            guard leaves.count < limit else {
                throw CodecError(.invalidRequest, "input '\(name)' data holds more elements than its shape (\(limit))")
            }
            leaves.append(value)
        }
    }

    private static func binaryTensor(name: String, dtype: DataType, shape: [Int], bytes: UnsafeRawBufferPointer) throws(CodecError) -> Tensor {
        let count = shape.elementCount
        guard let width = dtype.byteWidth else {
            // BYTES: each element is a 4-byte little-endian length, then that many bytes.
            var elements: [[UInt8]] = []
            elements.reserveCapacity(count)
            var reader = BinaryReader(bytes: bytes)
            while reader.remaining > 0 {
                guard let lengthBytes = reader.take(4) else {
                    throw CodecError(.invalidRequest, "input '\(name)' BYTES data ends inside an element's 4-byte length")
                }
                let length = Int(lengthBytes.loadUnaligned(as: UInt32.self).littleEndian)
                guard let element = reader.take(length) else {
                    throw CodecError(.invalidRequest, "input '\(name)' BYTES element \(elements.count) claims \(length) bytes, only \(reader.remaining) remain")
                }
                elements.append(Array(element))
            }
            guard elements.count == count else {
                throw CodecError(.invalidRequest, "input '\(name)' shape \(shape.shapeDescription) holds \(count) elements, binary data has \(elements.count)")
            }
            do {
                return try Tensor(shape: shape, strings: elements)
            } catch {
                throw CodecError(.invalidRequest, "input '\(name)': \(error.message)", cause: error)
            }
        }
        guard bytes.count == count * width else {
            throw CodecError(
                .invalidRequest,
                "input '\(name)' \(dtype.v2Name) \(shape.shapeDescription) needs \(count * width) bytes of binary data, binary_data_size is \(bytes.count)")
        }
        do {
            return try Tensor(dtype: dtype, shape: shape) { raw in
                raw.copyMemory(from: bytes)
            }
        } catch {
            throw CodecError(.invalidRequest, "input '\(name)': \(error)", cause: error)
        }
    }

    /// Encodes an inference response. Outputs are written in `order`; `binary(name)` says which go
    /// in the binary part. Returns the body and, when any output is binary, the JSON part's length
    /// (for `Inference-Header-Content-Length`).
    public static func encodeInferResponse(
        modelName: String, modelVersion: String, id: String?, outputs: [String: Tensor], order: [String],
        binary: (String) -> Bool
    ) -> (body: [UInt8], headerLength: Int?) {
        var writer = JSONWriter(reservingCapacity: 256 + outputs.values.reduce(0) { $0 + $1.byteCount * 3 })
        var binaryParts: [Tensor] = []
        writer.append("{\"model_name\":")
        writer.writeString(modelName)
        writer.append(",\"model_version\":")
        writer.writeString(modelVersion)
        if let id {
            writer.append(",\"id\":")
            writer.writeString(id)
        }
        writer.append(",\"outputs\":[")
        for (index, name) in order.enumerated() {
            guard let tensor = outputs[name] else { continue }
            if index > 0 { writer.append(UInt8(ascii: ",")) }
            writer.append("{\"name\":")
            writer.writeString(name)
            writer.append(",\"datatype\":")
            writer.writeString(tensor.dtype.v2Name)
            writer.append(",\"shape\":[")
            for (position, dimension) in tensor.shape.enumerated() {
                if position > 0 { writer.append(UInt8(ascii: ",")) }
                writer.writeInteger(Int64(dimension))
            }
            writer.append(UInt8(ascii: "]"))
            if binary(name) {
                writer.append(",\"parameters\":{\"binary_data_size\":")
                writer.writeInteger(Int64(binaryByteCount(of: tensor)))
                writer.append("}}")
                binaryParts.append(tensor)
            } else {
                writer.append(",\"data\":")
                let flat = (try? tensor.reshaped([tensor.elementCount])) ?? tensor
                TFServingJSON.writeTensor(flat, name: name, into: &writer)
                writer.append(UInt8(ascii: "}"))
            }
        }
        writer.append("]}")
        guard !binaryParts.isEmpty else { return (writer.bytes, nil) }
        var body = writer.bytes
        let headerLength = body.count
        appendBinary(binaryParts, to: &body)
        return (body, headerLength)
    }

    /// Appends tensors in the binary tensor data layout: raw little-endian elements, or for BYTES a
    /// 4-byte little-endian length before each element. Requests and responses use the same layout.
    public static func appendBinary(_ tensors: [Tensor], to body: inout [UInt8]) {
        body.reserveCapacity(body.count + tensors.reduce(0) { $0 + binaryByteCount(of: $1) })
        for tensor in tensors {
            if tensor.dtype == .string {
                for element in (try? tensor.strings()) ?? [] {
                    withUnsafeBytes(of: UInt32(element.count).littleEndian) { body.append(contentsOf: $0) }
                    body.append(contentsOf: element)
                }
            } else {
                // Tensor storage is little-endian on every platform Wharf runs on.
                tensor.withUnsafeBytes { body.append(contentsOf: $0) }
            }
        }
    }

    /// Bytes a tensor takes in the binary part.
    public static func binaryByteCount(of tensor: Tensor) -> Int {
        guard tensor.dtype == .string else { return tensor.byteCount }
        return ((try? tensor.strings()) ?? []).reduce(0) { $0 + 4 + $1.count }
    }
}

/// Consumes a byte range front to back.
struct BinaryReader {
    private let bytes: UnsafeRawBufferPointer
    private var offset = 0

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    /// The next `count` bytes, or `nil` when fewer remain.
    mutating func take(_ count: Int) -> UnsafeRawBufferPointer? {
        guard count >= 0, count <= remaining else { return nil }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
    }
}

extension JSONParser {
    /// Parses an inference request's root object (at its `{`) as a tree, except that the first
    /// `inputs` member, when a list, has the `data` of its input objects taken out: returned as
    /// data sources, one per element. Throws (anything) where the direct path gives up.
    fileprivate mutating func parseInferRequestRoot() throws(CodecError) -> (JSONObject, [KServeV2.DataSource]?) {
        try enterNesting()
        position += 1  // {
        skipWhitespace()
        var members: [JSONObject.Member] = []
        var dataSources: [KServeV2.DataSource]?
        var sawInputs = false
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            depth -= 1
            return (JSONObject(members), nil)
        }
        while true {
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw DirectDecoding.fallBack }
            let key = try parseString()
            try expectColon()
            if key == "inputs" && !sawInputs {
                sawInputs = true
                if position < bytes.count, bytes[position] == UInt8(ascii: "[") {
                    let (inputs, sources) = try parseInferInputs()
                    members.append(JSONObject.Member(key: key, value: .array(inputs)))
                    dataSources = sources
                } else {
                    members.append(JSONObject.Member(key: key, value: try parseValue()))
                }
            } else {
                members.append(JSONObject.Member(key: key, value: try parseValue()))
            }
            if try endOfMember(closing: UInt8(ascii: "}")) { break }
        }
        depth -= 1
        return (JSONObject(members), dataSources)
    }

    /// The `inputs` list (at its `[`): its elements, input objects without `data`, and each one's
    /// data.
    private mutating func parseInferInputs() throws(CodecError) -> ([JSONValue], [KServeV2.DataSource]) {
        try enterNesting()
        position += 1  // [
        skipWhitespace()
        var inputs: [JSONValue] = []
        var sources: [KServeV2.DataSource] = []
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            depth -= 1
            return (inputs, sources)
        }
        while true {
            guard position < bytes.count else { throw DirectDecoding.fallBack }
            if bytes[position] == UInt8(ascii: "{") {
                let (object, source) = try parseInferInput()
                inputs.append(.object(object))
                sources.append(source)
            } else {
                inputs.append(try parseValue())
                sources.append(.absent)
            }
            if try endOfMember(closing: UInt8(ascii: "]")) { break }
        }
        depth -= 1
        return (inputs, sources)
    }

    /// One input object (at its `{`), its `data` taken out.
    private mutating func parseInferInput() throws(CodecError) -> (JSONObject, KServeV2.DataSource) {
        try enterNesting()
        position += 1  // {
        skipWhitespace()
        var members: [JSONObject.Member] = []
        members.reserveCapacity(4)
        var data = KServeV2.DataSource.absent
        var sawData = false
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            depth -= 1
            return (JSONObject(members), data)
        }
        while true {
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw DirectDecoding.fallBack }
            let key = try parseString()
            try expectColon()
            if key == "data" {
                // The tree path reads the first `data`; rather than mimic that, give up on two.
                if sawData { throw DirectDecoding.fallBack }
                sawData = true
                data = try parseInputData(before: JSONObject(members))
            } else {
                members.append(JSONObject.Member(key: key, value: try parseValue()))
            }
            if try endOfMember(closing: UInt8(ascii: "}")) { break }
        }
        depth -= 1
        return (JSONObject(members), data)
    }

    private func knownShape(_ value: JSONValue?) -> (dimensions: [Int], elementCount: Int)? {
        do {
            return try KServeV2.shape(of: value, input: "")
        } catch {
            return nil
        }
    }

    /// An input's `data` value. With the datatype and shape already read (`earlier` holds the
    /// members before `data`), numbers go straight into the tensor; otherwise a value of scalars
    /// is only checked and its range kept, and anything else becomes a tree.
    private mutating func parseInputData(before earlier: JSONObject) throws(CodecError) -> KServeV2.DataSource {
        var dtype: DataType?
        if case .string(let name)? = earlier["datatype"] { dtype = KServeV2.dataType(v2Name: name) }
        if dtype == .string { return .tree(try parseValue()) }
        if let dtype, let known = knownShape(earlier["shape"]), known.elementCount <= bytes.count - position {
            let elementCount = known.elementCount
            let tensor: Tensor
            do {
                tensor = try Tensor(dtype: dtype, shape: known.dimensions) { raw in
                    let written = try decodeLeaves(dtype: dtype, into: raw, capacity: elementCount)
                    guard written == elementCount else { throw DirectDecoding.fallBack }
                }
            } catch {
                throw DirectDecoding.fallBack
            }
            return .tensor(tensor)
        }
        let start = position
        let startDepth = depth
        do {
            _ = try skipLeaves()
            return .range(start..<position)
        } catch {
            position = start
            depth = startDepth
            return .tree(try parseValue())
        }
    }
}
