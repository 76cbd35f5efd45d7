internal import WharfCore

// Building tensors from JSON values: nested lists are walked once, checked to be rectangular, and
// their leaves converted straight into the tensor's storage.

/// Why one leaf value could not be converted to the element type.
enum LeafFailure: Error {
    case wrongKind
    case notIntegral
    case outOfRange
    case invalidBase64(Base64.DecodingFailure)
}

/// A fixed-width element type that can be read from a JSON leaf. `fromNumber` and `fromBool` are
/// the conversions; `fromJSON` dispatches a tree leaf to them, and the direct decoders (which
/// build no `JSONValue`) call them as well, so both paths convert identically.
protocol JSONDecodableElement {
    /// The element for a number token.
    static func fromNumber(_ value: JSONNumber) throws(LeafFailure) -> Self
    /// The element for `true` or `false`.
    static func fromBool(_ value: Bool) throws(LeafFailure) -> Self
    /// Whether every number converts as its nearest double does (floating-point types): the
    /// direct decoders then read common tokens straight into a double (`JSONParser.fastDecimal()`).
    static var convertsThroughDouble: Bool { get }
}

extension JSONDecodableElement {
    @inline(__always)
    static var convertsThroughDouble: Bool { false }

    @inline(__always)
    static func fromJSON(_ value: JSONValue) throws(LeafFailure) -> Self {
        switch value {
        case .int(let number): try fromNumber(.int(number))
        case .uint(let number): try fromNumber(.uint(number))
        case .double(let number): try fromNumber(.double(number))
        case .bool(let flag): try fromBool(flag)
        default: throw .wrongKind
        }
    }
}

extension JSONDecodableElement where Self: FixedWidthInteger {
    /// Integers come from integer tokens, or from integral doubles (`1.0`, `1e3`) that convert
    /// exactly; never from fractions, NaN or infinities.
    @inline(__always)
    static func fromNumber(_ value: JSONNumber) throws(LeafFailure) -> Self {
        switch value {
        case .int(let number):
            guard let result = Self(exactly: number) else { throw .outOfRange }
            return result
        case .uint(let number):
            guard let result = Self(exactly: number) else { throw .outOfRange }
            return result
        case .double(let number):
            guard number.isFinite, number.rounded(.towardZero) == number else { throw .notIntegral }
            guard let result = Self(exactly: number) else { throw .outOfRange }
            return result
        }
    }

    @inline(__always)
    static func fromBool(_ value: Bool) throws(LeafFailure) -> Self { throw .wrongKind }
}

extension JSONDecodableElement where Self: BinaryFloatingPoint {
    @inline(__always)
    static var convertsThroughDouble: Bool { true }

    /// Floats come from any number, NaN and the infinities included; a finite number too large
    /// for the type is out of range rather than silently infinite.
    @inline(__always)
    static func fromNumber(_ value: JSONNumber) throws(LeafFailure) -> Self {
        let result: Self
        switch value {
        case .double(let number):
            result = Self(number)
            if result.isInfinite && number.isFinite { throw .outOfRange }
        case .int(let number):
            result = Self(number)
            if result.isInfinite { throw .outOfRange }
        case .uint(let number):
            result = Self(number)
            if result.isInfinite { throw .outOfRange }
        }
        return result
    }

    @inline(__always)
    static func fromBool(_ value: Bool) throws(LeafFailure) -> Self { throw .wrongKind }
}

extension Float16: JSONDecodableElement {}
extension Float: JSONDecodableElement {}
extension Double: JSONDecodableElement {}
extension Int8: JSONDecodableElement {}
extension Int16: JSONDecodableElement {}
extension Int32: JSONDecodableElement {}
extension Int64: JSONDecodableElement {}
extension UInt8: JSONDecodableElement {}
extension UInt16: JSONDecodableElement {}
extension UInt32: JSONDecodableElement {}
extension UInt64: JSONDecodableElement {}

extension Bool: JSONDecodableElement {
    @inline(__always)
    static func fromNumber(_ value: JSONNumber) throws(LeafFailure) -> Bool { throw .wrongKind }

    @inline(__always)
    static func fromBool(_ value: Bool) throws(LeafFailure) -> Bool { value }
}

/// Where converted leaves go, in row-major order.
protocol LeafSink {
    mutating func put(_ value: JSONValue) throws(LeafFailure)
}

/// Writes fixed-width elements into uninitialized tensor storage.
struct DenseSink<Element: JSONDecodableElement>: LeafSink {
    let base: UnsafeMutablePointer<Element>
    var index = 0

    @inline(__always)
    mutating func put(_ value: JSONValue) throws(LeafFailure) {
        (base + index).initialize(to: try Element.fromJSON(value))
        index += 1
    }
}

/// Collects byte strings: a JSON string's UTF-8 bytes, or the decoded bytes of `{"b64": "..."}`.
struct StringSink: LeafSink {
    var elements: [[UInt8]] = []

    mutating func put(_ value: JSONValue) throws(LeafFailure) {
        switch value {
        case .string(let text):
            elements.append(Array(text.utf8))
        case .object(let object):
            guard object.count == 1, object.members[0].key == "b64", case .string(let text) = object.members[0].value
            else { throw .wrongKind }
            do {
                elements.append(try Base64.decode(text))
            } catch {
                throw .invalidBase64(error)
            }
        default:
            throw .wrongKind
        }
    }
}

/// Accepts any leaf that is not a list; used to check a value's shape without converting it.
struct ShapeCheckSink: LeafSink {
    mutating func put(_ value: JSONValue) throws(LeafFailure) {
        if case .array = value { throw .wrongKind }
    }
}

/// A problem found while walking one value against the expected dimensions. `level` is the
/// number of list levels entered when it was found; `path` holds the indices taken to get there.
struct WalkFailure: Error {
    enum Kind {
        /// A leaf did not convert.
        case leaf(LeafFailure, JSONValue)
        /// A list was expected (`level` < rank), something else came.
        case expectedList(JSONValue)
        /// A list of the expected length was not found.
        case wrongCount(Int)
    }
    var kind: Kind
    var level: Int
    var path: [Int]
}

/// Walks a nested list of the given dimensions, sending its leaves to the sink in row-major order.
struct ValueWalker<Sink: LeafSink> {
    var sink: Sink
    let dimensions: [Int]

    mutating func walk(_ value: JSONValue) throws(WalkFailure) {
        do {
            try walk(value, level: 0)
        } catch {
            // Levels fill in their indices on the way out; reverse them into path order.
            var failure = error
            failure.path.reverse()
            throw failure
        }
    }

    private mutating func walk(_ value: JSONValue, level: Int) throws(WalkFailure) {
        if level == dimensions.count {
            do {
                try sink.put(value)
            } catch {
                throw WalkFailure(kind: .leaf(error, value), level: level, path: [])
            }
            return
        }
        guard case .array(let elements) = value else {
            throw WalkFailure(kind: .expectedList(value), level: level, path: [])
        }
        guard elements.count == dimensions[level] else {
            throw WalkFailure(kind: .wrongCount(elements.count), level: level, path: [])
        }
        if level + 1 == dimensions.count {
            // The innermost level: leaves, the hot loop.
            for index in elements.indices {
                do {
                    try sink.put(elements[index])
                } catch {
                    throw WalkFailure(kind: .leaf(error, elements[index]), level: level + 1, path: [index])
                }
            }
        } else {
            for index in elements.indices {
                do {
                    try walk(elements[index], level: level + 1)
                } catch {
                    var failure = error
                    failure.path.append(index)
                    throw failure
                }
            }
        }
    }
}

/// The shape a nested list suggests, following first elements; the walk then checks the rest.
func inferredShape(of value: JSONValue) -> [Int] {
    var shape: [Int] = []
    var current = value
    while case .array(let elements) = current {
        shape.append(elements.count)
        guard let first = elements.first else { break }
        current = first
    }
    return shape
}

/// Whether `value` is a rectangular nested list; `nil` when it is, else the failure.
func rectangularityFailure(of value: JSONValue) -> WalkFailure? {
    var walker = ValueWalker(sink: ShapeCheckSink(), dimensions: inferredShape(of: value))
    do {
        try walker.walk(value)
        return nil
    } catch {
        return error
    }
}

/// The element type to give an input the signature does not declare, from the leaves it holds:
/// the tensor only carries it to `Signature.validate`, which rejects the name.
func inferredDataType(of value: JSONValue) -> DataType? {
    var sawBool = false
    var sawString = false
    var sawInteger = false
    var sawOtherNumber = false
    func visit(_ value: JSONValue) {
        switch value {
        case .array(let elements): elements.forEach(visit)
        case .bool: sawBool = true
        case .int: sawInteger = true
        case .uint, .double: sawOtherNumber = true
        case .string, .object: sawString = true
        case .null: sawOtherNumber = true
        }
    }
    visit(value)
    let kinds = [sawBool, sawString, sawInteger || sawOtherNumber].filter { $0 }.count
    if kinds > 1 { return nil }
    if sawBool { return .bool }
    if sawString { return .string }
    if sawInteger && !sawOtherNumber { return .int64 }
    return .float64
}

/// How a tensor's value appeared in the request, for error messages.
struct InputLocation {
    enum Layout {
        /// `"inputs": value` or `"inputs": {name: value}`.
        case columnar(named: Bool)
        /// `"instances": [value, ...]` or `"instances": [{name: value}, ...]`.
        case row(named: Bool)
    }

    let name: String
    let dtype: DataType
    let layout: Layout

    /// Where part `part` (an instance index in row format) starts: `inputs.x`, `instances[3].x`.
    func prefix(part: Int) -> String {
        switch layout {
        case .columnar(named: true): "inputs.\(name)"
        case .columnar(named: false): "inputs"
        case .row(named: true): "instances[\(part)].\(name)"
        case .row(named: false): "instances[\(part)]"
        }
    }

    func path(part: Int, indices: [Int]) -> String {
        prefix(part: part) + indices.map { "[\($0)]" }.joined()
    }

    func firstElementPath(part: Int, level: Int) -> String {
        prefix(part: part) + String(repeating: "[0]", count: level)
    }

    private var expectation: String {
        dtype == .string ? "string (a JSON string or {\"b64\": \"...\"})" : dtype.rawValue
    }

    /// The error for a failure while walking part `part` (an instance index in row format)
    /// against `dimensions`.
    func error(for failure: WalkFailure, part: Int, dimensions: [Int]) -> CodecError {
        let here = path(part: part, indices: failure.path)
        let reference = firstElementPath(part: part, level: failure.level)
        switch failure.kind {
        case .leaf(.wrongKind, .array(let elements)):
            return CodecError(
                .raggedList,
                "input '\(name)' is a ragged list: \(here) is a list of \(elements.count), but \(reference) is a scalar")
        case .leaf(.wrongKind, let value):
            return CodecError(.typeMismatch, "input '\(name)' expects \(expectation), got \(value.briefDescription) at \(here)")
        case .leaf(.notIntegral, let value):
            return CodecError(.typeMismatch, "input '\(name)' expects \(dtype), got \(value.briefDescription) at \(here)")
        case .leaf(.outOfRange, let value):
            return CodecError(
                .outOfRange, "input '\(name)' value \(value.briefDescription) is out of range for \(dtype) at \(here)")
        case .leaf(.invalidBase64(let reason), _):
            return CodecError(
                .invalidBase64,
                "input '\(name)' has invalid base64 at \(here): \(reason.reason) (character \(reason.offset))")
        case .expectedList(let value):
            return CodecError(
                .raggedList,
                "input '\(name)' is a ragged list: \(here) is \(value.briefDescription), but \(reference) is a list")
        case .wrongCount(let count):
            return CodecError(
                .raggedList,
                "input '\(name)' is a ragged list: \(here) has \(count) element\(count == 1 ? "" : "s"), but "
                    + "\(reference) has \(dimensions[failure.level])")
        }
    }
}

/// Builds the tensor for one input from its parts: one value (columnar) or one value per instance
/// (row format, stacked along a new first dimension). Every part must have the first part's shape.
func makeTensor(parts: [JSONValue], stacked: Bool, location: InputLocation) throws(CodecError) -> Tensor {
    let partShape = inferredShape(of: parts.first ?? .array([]))
    let shape = stacked ? [parts.count] + partShape : partShape
    // The shape follows first elements only, so a small body can suggest a huge one
    // ([[[0 × 1000], 0 × 999], 0 × 999] suggests 10^9 elements): above a modest size, check that
    // the lists really hold that many elements before allocating for them.
    var elementCount = 1
    var suspicious = false
    for dimension in shape {
        let (product, overflow) = elementCount.multipliedReportingOverflow(by: dimension)
        if overflow {
            suspicious = true
            break
        }
        elementCount = product
    }

    func failure(_ walkFailure: WalkFailure, part: Int) -> CodecError {
        if part > 0 {
            // A later instance may be ragged itself, or rectangular but of another shape.
            let ownShape = inferredShape(of: parts[part])
            if let own = rectangularityFailure(of: parts[part]) {
                return location.error(for: own, part: part, dimensions: ownShape)
            }
            if ownShape != partShape {
                return CodecError(
                    .raggedList,
                    "input '\(location.name)': \(location.prefix(part: part)) has shape \(describe(ownShape)), but "
                        + "\(location.prefix(part: 0)) has shape \(describe(partShape)); every instance must have the same shape")
            }
        }
        return location.error(for: walkFailure, part: part, dimensions: partShape)
    }

    if suspicious || elementCount > 1 << 16 {
        for index in parts.indices {
            var checker = ValueWalker(sink: ShapeCheckSink(), dimensions: partShape)
            do {
                try checker.walk(parts[index])
            } catch {
                throw failure(error, part: index)
            }
        }
        if suspicious {
            throw CodecError(.invalidRequest, "input '\(location.name)' has more elements than a tensor can hold")
        }
    }

    if location.dtype == .string {
        var walker = ValueWalker(sink: StringSink(), dimensions: partShape)
        walker.sink.elements.reserveCapacity(elementCount)
        for index in parts.indices {
            do {
                try walker.walk(parts[index])
            } catch {
                throw failure(error, part: index)
            }
        }
        do {
            return try Tensor(shape: shape, strings: walker.sink.elements)
        } catch {
            throw CodecError(.invalidRequest, "input '\(location.name)': \(error.message)", cause: error)
        }
    }

    func dense<Element: JSONDecodableElement>(_ type: Element.Type) throws(CodecError) -> Tensor {
        var walkError: CodecError?
        do {
            return try Tensor(dtype: location.dtype, shape: shape) { raw in
                guard let address = raw.baseAddress else { return }
                let base = address.bindMemory(to: Element.self, capacity: elementCount)
                var walker = ValueWalker(sink: DenseSink(base: base), dimensions: partShape)
                for index in parts.indices {
                    do throws(WalkFailure) {
                        try walker.walk(parts[index])
                    } catch {
                        walkError = failure(error, part: index)
                        throw error
                    }
                }
            }
        } catch {
            if let walkError { throw walkError }
            if let error = error as? CodecError { throw error }
            throw CodecError(.invalidRequest, "input '\(location.name)': \(error)", cause: error)
        }
    }

    switch location.dtype {
    case .float16: return try dense(Float16.self)
    case .float32: return try dense(Float.self)
    case .float64: return try dense(Double.self)
    case .int8: return try dense(Int8.self)
    case .int16: return try dense(Int16.self)
    case .int32: return try dense(Int32.self)
    case .int64: return try dense(Int64.self)
    case .uint8: return try dense(UInt8.self)
    case .uint16: return try dense(UInt16.self)
    case .uint32: return try dense(UInt32.self)
    case .uint64: return try dense(UInt64.self)
    case .bool: return try dense(Bool.self)
    case .string: fatalError("unreachable: string tensors are built above")
    }
}

private func describe(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
}
