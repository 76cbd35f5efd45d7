public import WharfCore
public import WharfProtocols

/// Encodes input tensors as the body of an inference request in each protocol.
public enum RequestEncoder {
    /// The request for `inputs` in `inferenceProtocol`. `outputs` are the model's output names: a
    /// binary V2 request asks for each of them as binary data. `tfServingFormat` picks the layout
    /// of a TF Serving body; row format falls back to columnar when the inputs do not share a
    /// first dimension.
    public static func encode(
        _ inputs: [String: Tensor], outputs: [String], inferenceProtocol: InferenceProtocol, model: String, version: Int64?,
        tfServingFormat: TFServingJSON.Format = .row
    ) -> EncodedRequest {
        let path = inferenceProtocol.inferencePath(model: model, version: version)
        let named = inputs.sorted { $0.key < $1.key }
        switch inferenceProtocol {
        case .tfServing:
            return EncodedRequest(path: path, body: tfServingBody(named, format: tfServingFormat), contentType: "application/json")
        case .v2JSON:
            return EncodedRequest(path: path, body: v2JSONBody(named), contentType: "application/json")
        case .v2Binary:
            let (body, headerLength) = v2BinaryBody(named, outputs: outputs)
            return EncodedRequest(path: path, body: body, contentType: "application/octet-stream", headerLength: headerLength)
        }
    }

    /// Row format (`{"instances": [...]}`, one entry per row: the row itself for a single input, an
    /// object of rows for several) when asked for and every input has the same first dimension;
    /// columnar (`{"inputs": {...}}`) otherwise.
    static func tfServingBody(_ inputs: [(key: String, value: Tensor)], format: TFServingJSON.Format) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: estimatedJSONSize(inputs))
        let firstDimensions = Set(inputs.map { $0.value.shape.first ?? -1 })
        if format == .row, firstDimensions.count == 1, let rows = firstDimensions.first, rows >= 1 {
            writer.append("{\"instances\":")
            if inputs.count == 1, let (name, tensor) = inputs.first {
                TFServingJSON.writeTensor(tensor, name: name, into: &writer)
            } else {
                writer.append(UInt8(ascii: "["))
                for row in 0..<rows {
                    if row > 0 { writer.append(UInt8(ascii: ",")) }
                    writer.append(UInt8(ascii: "{"))
                    for (index, (name, tensor)) in inputs.enumerated() {
                        if index > 0 { writer.append(UInt8(ascii: ",")) }
                        writer.writeKey(name)
                        let slice = (try? tensor.rows(row..<(row + 1)).reshaped(Array(tensor.shape.dropFirst()))) ?? tensor
                        TFServingJSON.writeTensor(slice, name: name, into: &writer)
                    }
                    writer.append(UInt8(ascii: "}"))
                }
                writer.append(UInt8(ascii: "]"))
            }
            writer.append(UInt8(ascii: "}"))
            return writer.bytes
        }
        writer.append("{\"inputs\":{")
        for (index, (name, tensor)) in inputs.enumerated() {
            if index > 0 { writer.append(UInt8(ascii: ",")) }
            writer.writeKey(name)
            TFServingJSON.writeTensor(tensor, name: name, into: &writer)
        }
        writer.append("}}")
        return writer.bytes
    }

    static func v2JSONBody(_ inputs: [(key: String, value: Tensor)]) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: estimatedJSONSize(inputs))
        writer.append("{\"inputs\":[")
        for (index, (name, tensor)) in inputs.enumerated() {
            if index > 0 { writer.append(UInt8(ascii: ",")) }
            writeTensorHeader(name: name, tensor: tensor, into: &writer)
            writer.append(",\"data\":")
            if tensor.dtype == .string {
                writer.append(UInt8(ascii: "["))
                for (position, element) in ((try? tensor.strings()) ?? []).enumerated() {
                    if position > 0 { writer.append(UInt8(ascii: ",")) }
                    writer.writeString(String(decoding: element, as: UTF8.self))
                }
                writer.append(UInt8(ascii: "]"))
            } else {
                let flat = (try? tensor.reshaped([tensor.elementCount])) ?? tensor
                TFServingJSON.writeTensor(flat, name: name, into: &writer)
            }
            writer.append(UInt8(ascii: "}"))
        }
        writer.append("]}")
        return writer.bytes
    }

    static func v2BinaryBody(_ inputs: [(key: String, value: Tensor)], outputs: [String]) -> (body: [UInt8], headerLength: Int) {
        var writer = JSONWriter(reservingCapacity: 128 + 96 * (inputs.count + outputs.count))
        writer.append("{\"inputs\":[")
        for (index, (name, tensor)) in inputs.enumerated() {
            if index > 0 { writer.append(UInt8(ascii: ",")) }
            writeTensorHeader(name: name, tensor: tensor, into: &writer)
            writer.append(",\"parameters\":{\"binary_data_size\":")
            writer.writeInteger(Int64(KServeV2.binaryByteCount(of: tensor)))
            writer.append("}}")
        }
        writer.append(UInt8(ascii: "]"))
        if !outputs.isEmpty {
            writer.append(",\"outputs\":[")
            for (index, name) in outputs.enumerated() {
                if index > 0 { writer.append(UInt8(ascii: ",")) }
                writer.append("{\"name\":")
                writer.writeString(name)
                writer.append(",\"parameters\":{\"binary_data\":true}}")
            }
            writer.append(UInt8(ascii: "]"))
        }
        writer.append(UInt8(ascii: "}"))
        var body = writer.bytes
        let headerLength = body.count
        KServeV2.appendBinary(inputs.map(\.value), to: &body)
        return (body, headerLength)
    }

    private static func writeTensorHeader(name: String, tensor: Tensor, into writer: inout JSONWriter) {
        writer.append("{\"name\":")
        writer.writeString(name)
        writer.append(",\"shape\":[")
        for (index, size) in tensor.shape.enumerated() {
            if index > 0 { writer.append(UInt8(ascii: ",")) }
            writer.writeInteger(Int64(size))
        }
        writer.append("],\"datatype\":")
        writer.writeString(tensor.dtype.v2Name)
    }


    private static func estimatedJSONSize(_ inputs: [(key: String, value: Tensor)]) -> Int {
        inputs.reduce(64) { $0 + 32 + $1.value.elementCount * 14 + $1.value.byteCount }
    }
}
