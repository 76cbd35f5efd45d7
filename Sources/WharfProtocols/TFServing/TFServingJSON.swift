public import WharfCore

/// TensorFlow Serving's REST JSON: the body `:predict` takes and the body it answers with.
///
/// A request names its signature (`signature_name`, optional) and carries its inputs in one of
/// two layouts: row format (`"instances": [...]`, one entry per example, stacked into a batch) or
/// columnar format (`"inputs": ...`, each input a whole tensor). The response uses the layout of
/// the request: `{"predictions": [...]}` or `{"outputs": ...}`.
public enum TFServingJSON {
    /// The two layouts of a predict request and its response.
    public enum Format: String, Sendable, Hashable, CustomStringConvertible {
        /// `"instances"` in the request, `"predictions"` in the response.
        case row
        /// `"inputs"` in the request, `"outputs"` in the response.
        case columnar

        /// `row` or `columnar`.
        public var description: String { rawValue }
    }

    /// A decoded predict request.
    public struct PredictRequest: Sendable {
        /// The signature the request resolved to.
        public var signature: Signature
        /// The named inputs, typed as the signature declares (inputs it does not declare get a type
        /// from their values, so that `Signature.validate` can name them).
        public var inputs: [String: Tensor]
        /// The layout the request used; the response uses the same one.
        public var format: Format

        /// The key of the signature used.
        public var signatureKey: String { signature.key }

        /// Creates a decoded request.
        public init(signature: Signature, inputs: [String: Tensor], format: Format) {
            self.signature = signature
            self.inputs = inputs
            self.format = format
        }
    }

    // MARK: - Decoding

    /// Decodes a predict request body.
    ///
    /// `signature` resolves the body's `signature_name` (`nil` when the body has none) to the
    /// signature whose input types the values are converted to; its errors are rethrown as they
    /// are. Every other problem is a `CodecError`. Missing and unknown input names are left to
    /// `Signature.validate`.
    ///
    /// Numeric and bool inputs the signature declares are decoded straight from the text into
    /// tensor storage; a body the direct path does not take is decoded through a `JSONValue`
    /// tree, with the same result or error. `signature` is called at most once either way.
    public static func decodePredictRequest(
        _ body: UnsafeRawBufferPointer, maximumDepth: Int = JSONValue.defaultMaximumDepth,
        signature: (String?) throws -> Signature
    ) throws -> PredictRequest {
        try decodePredictRequest(
            bytes: body.assumingMemoryBound(to: UInt8.self), maximumDepth: maximumDepth, signature: signature)
    }

    /// Decodes a predict request body; see `decodePredictRequest(_:maximumDepth:signature:)`.
    public static func decodePredictRequest(
        _ body: [UInt8], maximumDepth: Int = JSONValue.defaultMaximumDepth,
        signature: (String?) throws -> Signature
    ) throws -> PredictRequest {
        try body.withUnsafeBufferPointer { bytes in
            try decodePredictRequest(bytes: bytes, maximumDepth: maximumDepth, signature: signature)
        }
    }

    static func decodePredictRequest(
        bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int, signature resolve: (String?) throws -> Signature
    ) throws -> PredictRequest {
        // Whichever path gets to the signature first resolves it; a fallback after that reuses it.
        var resolved: (name: String?, result: Result<Signature, any Error>)?
        func resolveOnce(_ name: String?) throws -> Signature {
            if let resolved, resolved.name == name { return try resolved.result.get() }
            let result = Result { try resolve(name) }
            resolved = (name, result)
            return try result.get()
        }
        if let request = try? decodeDirect(bytes: bytes, maximumDepth: maximumDepth, signature: resolveOnce) {
            return request
        }
        return try decodeTree(bytes: bytes, maximumDepth: maximumDepth, signature: resolveOnce)
    }

    /// Decodes a predict request by way of a `JSONValue` tree of the whole body (the only way
    /// before the direct decoder; errors are always reported this way). `legacyNumbers: true` gives
    /// the old number conversion too, for comparisons.
    static func decodeTree(
        bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int, legacyNumbers: Bool = false,
        signature resolve: (String?) throws -> Signature
    ) throws -> PredictRequest {
        var parser = JSONParser(bytes: bytes, maximumDepth: maximumDepth, legacyNumbers: legacyNumbers)
        let value = try parser.parseDocument()
        return try decodePredictRequest(value, signature: resolve)
    }

    /// Decodes an already parsed predict request body.
    public static func decodePredictRequest(
        _ body: JSONValue, signature resolve: (String?) throws -> Signature
    ) throws -> PredictRequest {
        guard case .object(let object) = body else {
            throw CodecError(.invalidRequest, "a predict request body must be a JSON object, got \(body.briefDescription)")
        }
        var signatureName: String?
        var instances: JSONValue?
        var inputs: JSONValue?
        var seen: Set<String> = []
        for member in object.members {
            switch member.key {
            case "signature_name", "instances", "inputs":
                guard seen.insert(member.key).inserted else {
                    throw CodecError(.invalidRequest, "the request has '\(member.key)' more than once")
                }
            default:
                continue  // TensorFlow Serving ignores other keys.
            }
            switch member.key {
            case "signature_name":
                switch member.value {
                case .string(let name): signatureName = name
                case .null: signatureName = nil
                default:
                    throw CodecError(
                        .invalidRequest, "'signature_name' must be a string, got \(member.value.briefDescription)")
                }
            case "instances": instances = member.value
            default: inputs = member.value
            }
        }
        if instances != nil && inputs != nil {
            throw CodecError(
                .invalidRequest,
                "the request has both 'instances' (row format) and 'inputs' (columnar format); send one of them")
        }
        guard instances != nil || inputs != nil else {
            let keys = object.isEmpty ? "none" : object.keys.map { "'\($0)'" }.joined(separator: ", ")
            throw CodecError(
                .invalidRequest,
                "the request needs 'instances' (row format) or 'inputs' (columnar format), got keys: \(keys)")
        }
        if let instances {
            guard case .array(let list) = instances else {
                throw CodecError(.invalidRequest, "'instances' must be a list, got \(instances.briefDescription)")
            }
            guard !list.isEmpty else {
                throw CodecError(.invalidRequest, "'instances' is an empty list; send at least one instance")
            }
        }

        let signature = try resolve(signatureName)
        if case .array(let list) = instances {
            return PredictRequest(signature: signature, inputs: try decodeRows(list, signature: signature), format: .row)
        }
        return PredictRequest(
            signature: signature, inputs: try decodeColumns(inputs ?? .null, signature: signature), format: .columnar)
    }

    /// The single input of a signature that has exactly one.
    private static func singleInput(_ signature: Signature) -> TensorSpec? {
        signature.inputs.count == 1 ? signature.inputs[0] : nil
    }

    /// Whether `object` is `{"b64": ...}` standing for the value of a signature's single string
    /// input, rather than an object of named inputs.
    private static func isBareBase64(_ object: JSONObject, signature: Signature) -> Bool {
        guard let input = singleInput(signature), input.dtype == .string, input.name != "b64" else { return false }
        return object.count == 1 && object.members[0].key == "b64"
    }

    private static func bareValueError(_ what: String, signature: Signature) -> CodecError {
        let names = signature.inputs.map { "'\($0.name)'" }.joined(separator: ", ")
        let has = signature.inputs.isEmpty ? "no inputs" : "\(signature.inputs.count) inputs (\(names))"
        return CodecError(
            .invalidRequest,
            "\(what) is a bare value, which needs a signature with exactly one input, but signature "
                + "'\(signature.key)' has \(has); send an object {\"input name\": value}")
    }

    private static func keyList(_ object: JSONObject) -> String {
        object.isEmpty ? "no keys" : "keys " + object.keys.map { "'\($0)'" }.joined(separator: ", ")
    }

    /// The declared type of an input, or for an undeclared one a type inferred from its values.
    private static func dataType(
        of name: String, values: @autoclosure () -> JSONValue, signature: Signature
    ) throws(CodecError) -> DataType {
        if let spec = signature.input(named: name) { return spec.dtype }
        guard let inferred = inferredDataType(of: values()) else {
            throw CodecError(
                .typeMismatch,
                "input '\(name)' (signature '\(signature.key)' declares no such input) mixes values of different kinds")
        }
        return inferred
    }

    /// Row format: `[value, ...]` for a single-input signature, or `[{name: value, ...}, ...]`.
    private static func decodeRows(_ instances: [JSONValue], signature: Signature) throws(CodecError) -> [String: Tensor] {
        let named: Bool
        if case .object(let first) = instances[0], !isBareBase64(first, signature: signature) {
            named = true
        } else {
            named = false
        }

        guard named else {
            guard let input = singleInput(signature) else {
                throw bareValueError("instances[0]", signature: signature)
            }
            for index in instances.indices.dropFirst() {
                if case .object(let object) = instances[index], !isBareBase64(object, signature: signature) {
                    throw CodecError(
                        .invalidRequest,
                        "instances[\(index)] is an object with \(keyList(object)), but instances[0] is a bare value; "
                            + "every instance must have the same form")
                }
            }
            let location = InputLocation(name: input.name, dtype: input.dtype, layout: .row(named: false))
            return [input.name: try makeTensor(parts: instances, stacked: true, location: location)]
        }

        guard case .object(let first) = instances[0] else { fatalError("unreachable: checked above") }
        if let duplicate = first.firstDuplicateKey {
            throw CodecError(.invalidRequest, "instances[0] has the key '\(duplicate)' more than once")
        }
        let keys = first.keys
        var columns = [[JSONValue]](repeating: [], count: keys.count)
        for column in columns.indices { columns[column].reserveCapacity(instances.count) }
        for (index, instance) in instances.enumerated() {
            guard case .object(let object) = instance else {
                throw CodecError(
                    .invalidRequest,
                    "instances[\(index)] is \(instance.briefDescription), expected an object {\"input name\": value} "
                        + "like instances[0]")
            }
            var matches = object.count == keys.count
            if matches {
                for (position, key) in keys.enumerated() {
                    guard let value = object.value(forKey: key, hint: position) else {
                        matches = false
                        break
                    }
                    columns[position].append(value)
                }
            }
            guard matches else {
                throw CodecError(
                    .invalidRequest,
                    "instances[\(index)] has \(keyList(object)), but instances[0] has \(keyList(first)); "
                        + "every instance must have the same keys")
            }
        }
        var tensors: [String: Tensor] = [:]
        tensors.reserveCapacity(keys.count)
        for (position, key) in keys.enumerated() {
            let dtype = try dataType(of: key, values: .array(columns[position]), signature: signature)
            let location = InputLocation(name: key, dtype: dtype, layout: .row(named: true))
            tensors[key] = try makeTensor(parts: columns[position], stacked: true, location: location)
        }
        return tensors
    }

    /// Columnar format: a bare value for a single-input signature, or `{name: value, ...}`.
    private static func decodeColumns(_ inputs: JSONValue, signature: Signature) throws(CodecError) -> [String: Tensor] {
        if case .object(let object) = inputs, !isBareBase64(object, signature: signature) {
            if let duplicate = object.firstDuplicateKey {
                throw CodecError(.invalidRequest, "'inputs' has the key '\(duplicate)' more than once")
            }
            var tensors: [String: Tensor] = [:]
            tensors.reserveCapacity(object.count)
            for member in object.members {
                let dtype = try dataType(of: member.key, values: member.value, signature: signature)
                let location = InputLocation(name: member.key, dtype: dtype, layout: .columnar(named: true))
                tensors[member.key] = try makeTensor(parts: [member.value], stacked: false, location: location)
            }
            return tensors
        }
        guard let input = singleInput(signature) else {
            throw bareValueError("'inputs'", signature: signature)
        }
        let location = InputLocation(name: input.name, dtype: input.dtype, layout: .columnar(named: false))
        return [input.name: try makeTensor(parts: [inputs], stacked: false, location: location)]
    }
}

extension JSONObject {
    /// The value of `key`, trying position `hint` first (instances usually list keys in the same
    /// order).
    @inline(__always)
    func value(forKey key: String, hint: Int) -> JSONValue? {
        if hint < members.count, members[hint].key == key { return members[hint].value }
        return self[key]
    }
}

// MARK: - Direct decoding

extension TFServingJSON {
    /// Where the tensor values of a request are, as found by the direct path's first pass.
    enum ScannedInputs {
        /// `"instances": [value, ...]`.
        case bareRows([ScannedTensor])
        /// `"instances": [{name: value, ...}, ...]`, every instance with the same keys in the same
        /// order: `rows[instance][key position]`.
        case namedRows(keys: [String], rows: [[ScannedTensor]])
        /// `"inputs": value`.
        case bare(ScannedTensor)
        /// `"inputs": {name: value, ...}`.
        case named(keys: [String], values: [ScannedTensor])
    }

    /// The direct path: one pass checks the body and finds its tensor values (rectangular lists of
    /// numbers or bools); once the signature is resolved, a second pass over those values writes
    /// their elements straight into tensors of the declared types. Throws (anything) where it
    /// gives up: strings, undeclared inputs, any error.
    static func decodeDirect(
        bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int, signature resolve: (String?) throws -> Signature
    ) throws -> PredictRequest {
        var parser = JSONParser(bytes: bytes, maximumDepth: maximumDepth)
        parser.skipByteOrderMark()
        parser.skipWhitespace()
        guard parser.position < bytes.count, bytes[parser.position] == UInt8(ascii: "{") else {
            throw DirectDecoding.fallBack
        }
        let (signatureName, scanned) = try parser.scanPredictRequest()
        try parser.expectEndOfInput()

        let signature = try resolve(signatureName)
        var tensors: [String: Tensor] = [:]
        func add(_ name: String, _ spec: TensorSpec?, _ parts: [ScannedTensor], stacked: Bool) throws(CodecError) {
            guard let spec, let first = parts.first else { throw DirectDecoding.fallBack }
            for part in parts where part.shape != first.shape { throw DirectDecoding.fallBack }
            let shape = stacked ? [parts.count] + first.shape : first.shape
            guard let perPart = checkedElementCount(first.shape), checkedElementCount(shape) != nil else {
                throw DirectDecoding.fallBack
            }
            tensors[name] = try directTensor(
                dtype: spec.dtype, shape: shape, from: bytes, ranges: parts.map(\.range), perRange: perPart)
        }
        let format: Format
        switch scanned {
        case .bareRows(let parts):
            format = .row
            let input = singleInput(signature)
            try add(input?.name ?? "", input, parts, stacked: true)
        case .namedRows(let keys, let rows):
            format = .row
            tensors.reserveCapacity(keys.count)
            for (position, key) in keys.enumerated() {
                try add(key, signature.input(named: key), rows.map { $0[position] }, stacked: true)
            }
        case .bare(let value):
            format = .columnar
            let input = singleInput(signature)
            try add(input?.name ?? "", input, [value], stacked: false)
        case .named(let keys, let values):
            format = .columnar
            tensors.reserveCapacity(keys.count)
            for (key, value) in zip(keys, values) {
                try add(key, signature.input(named: key), [value], stacked: false)
            }
        }
        return PredictRequest(signature: signature, inputs: tensors, format: format)
    }
}

extension JSONParser {
    /// The first pass of `TFServingJSON.decodeDirect` over the root object (at its `{`): the
    /// signature name and where the tensor values are. Gives up on whatever the tree path would
    /// reject, and on shapes of request it does not handle.
    fileprivate mutating func scanPredictRequest() throws(CodecError) -> (String?, TFServingJSON.ScannedInputs) {
        try enterNesting()
        position += 1  // {
        var signatureName: String?
        var sawSignatureName = false
        var scanned: TFServingJSON.ScannedInputs?
        skipWhitespace()
        while true {
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw DirectDecoding.fallBack }
            let key = try parseString()
            try expectColon()
            switch key {
            case "signature_name":
                if sawSignatureName { throw DirectDecoding.fallBack }
                sawSignatureName = true
                switch try parseValue() {
                case .string(let name): signatureName = name
                case .null: signatureName = nil
                default: throw DirectDecoding.fallBack
                }
            case "instances":
                if scanned != nil { throw DirectDecoding.fallBack }
                scanned = try scanInstances()
            case "inputs":
                if scanned != nil { throw DirectDecoding.fallBack }
                scanned = try scanInputs()
            default:
                _ = try parseValue()
            }
            if try endOfMember(closing: UInt8(ascii: "}")) { break }
        }
        depth -= 1
        guard let scanned else { throw DirectDecoding.fallBack }
        return (signatureName, scanned)
    }

    /// `instances`: a non-empty list of tensor values, or of objects with the same keys in the
    /// same order.
    private mutating func scanInstances() throws(CodecError) -> TFServingJSON.ScannedInputs {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "[") else { throw DirectDecoding.fallBack }
        try enterNesting()
        position += 1
        skipWhitespace()
        guard position < bytes.count, bytes[position] != UInt8(ascii: "]") else { throw DirectDecoding.fallBack }
        let named = bytes[position] == UInt8(ascii: "{")
        var parts: [ScannedTensor] = []
        var keys: [String] = []
        var rows: [[ScannedTensor]] = []
        while true {
            guard position < bytes.count else { throw DirectDecoding.fallBack }
            let isObject = bytes[position] == UInt8(ascii: "{")
            guard isObject == named else { throw DirectDecoding.fallBack }
            if named {
                let (instanceKeys, values) = try scanNamedValues()
                if rows.isEmpty {
                    try checkNamedKeys(instanceKeys)
                    keys = instanceKeys
                } else if instanceKeys != keys {
                    throw DirectDecoding.fallBack
                }
                rows.append(values)
            } else {
                parts.append(try scanRectangular())
            }
            if try endOfMember(closing: UInt8(ascii: "]")) { break }
        }
        depth -= 1
        return named ? .namedRows(keys: keys, rows: rows) : .bareRows(parts)
    }

    /// `inputs`: a tensor value, or an object of them.
    private mutating func scanInputs() throws(CodecError) -> TFServingJSON.ScannedInputs {
        guard position < bytes.count else { throw DirectDecoding.fallBack }
        if bytes[position] == UInt8(ascii: "{") {
            let (keys, values) = try scanNamedValues()
            try checkNamedKeys(keys)
            return .named(keys: keys, values: values)
        }
        return .bare(try scanRectangular())
    }

    /// Keys of named inputs the direct path takes: no key twice, and not `{"b64": ...}` (which
    /// may stand for a string value).
    private func checkNamedKeys(_ keys: [String]) throws(CodecError) {
        if keys.count == 1 && keys[0] == "b64" { throw DirectDecoding.fallBack }
        for i in keys.indices {
            for j in keys.indices where j > i && keys[j] == keys[i] { throw DirectDecoding.fallBack }
        }
    }

    /// An object (at its `{`) whose values are all tensor values.
    private mutating func scanNamedValues() throws(CodecError) -> ([String], [ScannedTensor]) {
        try enterNesting()
        position += 1
        skipWhitespace()
        var keys: [String] = []
        var values: [ScannedTensor] = []
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            depth -= 1
            return (keys, values)
        }
        while true {
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw DirectDecoding.fallBack }
            keys.append(try parseString())
            try expectColon()
            values.append(try scanRectangular())
            if try endOfMember(closing: UInt8(ascii: "}")) { break }
        }
        depth -= 1
        return (keys, values)
    }
}
