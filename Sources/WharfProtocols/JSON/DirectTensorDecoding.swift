internal import WharfCore

// Decoding tensor data straight from JSON text into tensor storage, without a `JSONValue` per
// element. The direct decoders accept only what the tree path would accept with the same result;
// on anything else they throw `DirectDecoding.fallBack`, and the codec decodes the body again the
// tree way, which then reports the problem with its usual message (or succeeds the same way).

enum DirectDecoding {
    /// Thrown where the direct path gives up; never reaches a client.
    static let fallBack = CodecError(.invalidRequest, "the direct decoder left this body to the tree decoder")
}

/// A nested list of scalars found by `JSONParser.scanRectangular()`: where its text lies and the
/// shape it has (every list at a level has the same length, every leaf is at the same depth).
struct ScannedTensor {
    var range: Range<Int>
    var shape: [Int]
}

extension JSONParser {
    // MARK: - Punctuation

    /// `:` after a key, with the whitespace around it.
    mutating func expectColon() throws(CodecError) {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw DirectDecoding.fallBack }
        position += 1
        skipWhitespace()
    }

    /// After an object member or list element: `,` (false, positioned at the next one) or
    /// `closing` (true, positioned after it).
    mutating func endOfMember(closing: UInt8) throws(CodecError) -> Bool {
        skipWhitespace()
        guard position < bytes.count else { throw DirectDecoding.fallBack }
        let byte = bytes[position]
        position += 1
        if byte == UInt8(ascii: ",") {
            skipWhitespace()
            return false
        }
        guard byte == closing else { throw DirectDecoding.fallBack }
        return true
    }

    // MARK: - Leaves

    /// Converts the scalar at the current position (a number, `NaN`, `Infinity`, `-Infinity`,
    /// `true` or `false`) to an element.
    @inline(__always)
    mutating func decodeLeaf<Element: JSONDecodableElement>(as type: Element.Type) throws(CodecError) -> Element {
        let number: JSONNumber
        switch bytes[position] {
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            if Element.convertsThroughDouble, let value = fastDecimal() {
                do { return try Element.fromNumber(.double(value)) } catch { throw DirectDecoding.fallBack }
            }
            number = try parseNumber()
        case UInt8(ascii: "N"):
            try expectLiteral("NaN")
            number = .double(.nan)
        case UInt8(ascii: "I"):
            try expectLiteral("Infinity")
            number = .double(.infinity)
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            do { return try Element.fromBool(true) } catch { throw DirectDecoding.fallBack }
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            do { return try Element.fromBool(false) } catch { throw DirectDecoding.fallBack }
        default:
            // Strings, objects and null are never elements of a dense tensor.
            throw DirectDecoding.fallBack
        }
        do { return try Element.fromNumber(number) } catch { throw DirectDecoding.fallBack }
    }

    /// Skips the scalar at the current position, checking its syntax only.
    @inline(__always)
    mutating func skipLeaf() throws(CodecError) {
        switch bytes[position] {
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try skipNumber()
        case UInt8(ascii: "N"): try expectLiteral("NaN")
        case UInt8(ascii: "I"): try expectLiteral("Infinity")
        case UInt8(ascii: "t"): try expectLiteral("true")
        case UInt8(ascii: "f"): try expectLiteral("false")
        default: throw DirectDecoding.fallBack
        }
    }

    /// Skips a number token (or `-Infinity`) with the syntax `parseNumber()` accepts. Its value
    /// is not checked here (`1e400` passes); whoever decodes the token later does that.
    mutating func skipNumber() throws(CodecError) {
        if bytes[position] == UInt8(ascii: "-") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "I") {
                try expectLiteral("Infinity")
                return
            }
        }
        guard position < bytes.count, isDigit(bytes[position]) else { throw DirectDecoding.fallBack }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
            if position < bytes.count, isDigit(bytes[position]) { throw DirectDecoding.fallBack }
        } else {
            skipDigits()
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard position < bytes.count, isDigit(bytes[position]) else { throw DirectDecoding.fallBack }
            skipDigits()
        }
        if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard position < bytes.count, isDigit(bytes[position]) else { throw DirectDecoding.fallBack }
            skipDigits()
        }
    }

    /// Skips decimal digits, eight at a time where it can.
    @inline(__always)
    private mutating func skipDigits() {
        guard let base = bytes.baseAddress else { return }
        let end = bytes.count
        var index = position
        while index + 8 <= end {
            let chunk = UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
            guard (chunk & 0xF0F0_F0F0_F0F0_F0F0) | (((chunk &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0) >> 4)
                == 0x3333_3333_3333_3333
            else { break }
            index += 8
        }
        while index < end, base[index] &- UInt8(ascii: "0") < 10 { index += 1 }
        position = index
    }

    // MARK: - Lists

    /// Decodes the value at the current position (a scalar, or lists of scalars nested in any
    /// way) as its leaves in document order into `base`, which has room for `capacity` elements;
    /// returns how many it wrote. More leaves than `capacity` fall back, as does any leaf that does
    /// not convert to `Element`.
    mutating func decodeLeaves<Element: JSONDecodableElement>(
        into base: UnsafeMutablePointer<Element>, capacity: Int
    ) throws(CodecError) -> Int {
        var level = 0
        var count = 0
        while true {
            // A value.
            skipWhitespace()
            guard position < bytes.count else { throw DirectDecoding.fallBack }
            if bytes[position] == UInt8(ascii: "[") {
                try enterNesting()
                position += 1
                level += 1
                skipWhitespace()
                guard position < bytes.count else { throw DirectDecoding.fallBack }
                if bytes[position] != UInt8(ascii: "]") { continue }
                position += 1
                depth -= 1
                level -= 1
            } else {
                guard count < capacity else { throw DirectDecoding.fallBack }
                (base + count).initialize(to: try decodeLeaf(as: Element.self))
                count += 1
                if Element.convertsThroughDouble, level > 0 { try continueRun(into: base, count: &count, capacity: capacity) }
            }
            // What follows a value: ',' and the next one, or the ends of lists.
            while true {
                if level == 0 { return count }
                skipWhitespace()
                guard position < bytes.count else { throw DirectDecoding.fallBack }
                let byte = bytes[position]
                position += 1
                if byte == UInt8(ascii: ",") { break }
                guard byte == UInt8(ascii: "]") else { throw DirectDecoding.fallBack }
                depth -= 1
                level -= 1
            }
        }
    }

    /// After a leaf inside a list: reads the run of `, number` that follows for as long as each
    /// number is a common token (`fastDecimal`, `fastFloat`), with local state and no per-element
    /// dispatch (most of a tensor's text). Stops before the `,` of anything else, or before
    /// whatever ends the run, for `decodeLeaves` to go on with.
    @inline(__always)
    private mutating func continueRun<Element: JSONDecodableElement>(
        into base: UnsafeMutablePointer<Element>, count: inout Int, capacity: Int
    ) throws(CodecError) {
        guard let text = bytes.baseAddress, !legacyNumbers else { return }
        let end = bytes.count
        var index = position
        var written = count
        defer { count = written }
        while written < capacity {
            while index < end, JSONParser.isWhitespace(text[index]) { index += 1 }
            guard index < end, text[index] == UInt8(ascii: ",") else { break }
            var next = index + 1
            while next < end, JSONParser.isWhitespace(text[next]) { next += 1 }
            guard next < end else { break }
            if Element.self == Float.self {
                // The common element type, converted inline. Through the protocol, the specialized
                // loop called `fromNumber` indirectly for every number; a protocol requirement
                // for this read measured 0.4-1.1 us slower per 784 numbers (CodecBench).
                guard let value = JSONParser.fastFloat(text, end, &next) else { break }
                UnsafeMutableRawPointer(base + written).initializeMemory(as: Float.self, repeating: value, count: 1)
            } else {
                guard let value = JSONParser.fastDecimal(text, end, &next) else { break }
                do {
                    (base + written).initialize(to: try Element.fromNumber(.double(value)))
                } catch {
                    throw DirectDecoding.fallBack
                }
            }
            written += 1
            index = next
        }
        position = index
    }

    /// Skips the value at the current position if it is a scalar or lists of scalars nested in
    /// any way, checking its syntax; returns the number of leaves. Falls back on anything else.
    mutating func skipLeaves() throws(CodecError) -> Int {
        var level = 0
        var count = 0
        while true {
            skipWhitespace()
            guard position < bytes.count else { throw DirectDecoding.fallBack }
            if bytes[position] == UInt8(ascii: "[") {
                try enterNesting()
                position += 1
                level += 1
                skipWhitespace()
                guard position < bytes.count else { throw DirectDecoding.fallBack }
                if bytes[position] != UInt8(ascii: "]") { continue }
                position += 1
                depth -= 1
                level -= 1
            } else {
                try skipLeaf()
                count += 1
            }
            while true {
                if level == 0 { return count }
                skipWhitespace()
                guard position < bytes.count else { throw DirectDecoding.fallBack }
                let byte = bytes[position]
                position += 1
                if byte == UInt8(ascii: ",") { break }
                guard byte == UInt8(ascii: "]") else { throw DirectDecoding.fallBack }
                depth -= 1
                level -= 1
            }
        }
    }

    /// Skips the value at the current position if it is a rectangular nested list of scalars (or
    /// one scalar), checking its syntax, and returns its range and shape. The shape follows first
    /// elements, as `inferredShape(of:)` does; every other list must match it, and every leaf must
    /// sit at the depth of the first. Falls back on anything else.
    mutating func scanRectangular() throws(CodecError) -> ScannedTensor {
        skipWhitespace()
        let start = position
        var level = 0
        // The rank, once the first leaf (or first empty list) tells it; -1 before.
        var rank = -1
        // Per level: the length lists there must have (-1 until the first list there closes), and
        // the number of elements the open list there has so far.
        var dimensions: [Int] = []
        var counts: [Int] = []
        while true {
            skipWhitespace()
            guard position < bytes.count else { throw DirectDecoding.fallBack }
            if bytes[position] == UInt8(ascii: "[") {
                if rank >= 0 && level >= rank { throw DirectDecoding.fallBack }
                try enterNesting()
                position += 1
                if level == dimensions.count {
                    dimensions.append(-1)
                    counts.append(0)
                } else {
                    counts[level] = 0
                }
                level += 1
                skipWhitespace()
                guard position < bytes.count else { throw DirectDecoding.fallBack }
                if bytes[position] != UInt8(ascii: "]") { continue }
                position += 1
                try closeList(level: &level, rank: &rank, dimensions: &dimensions, counts: counts)
            } else {
                if rank < 0 {
                    rank = level
                } else if level != rank {
                    throw DirectDecoding.fallBack
                }
                try skipLeaf()
            }
            while true {
                if level == 0 {
                    guard rank == dimensions.count else { throw DirectDecoding.fallBack }
                    return ScannedTensor(range: start..<position, shape: dimensions)
                }
                counts[level - 1] += 1
                skipWhitespace()
                guard position < bytes.count else { throw DirectDecoding.fallBack }
                let byte = bytes[position]
                position += 1
                if byte == UInt8(ascii: ",") { break }
                guard byte == UInt8(ascii: "]") else { throw DirectDecoding.fallBack }
                try closeList(level: &level, rank: &rank, dimensions: &dimensions, counts: counts)
            }
        }
    }

    /// The list at `level - 1` has just closed with `counts[level - 1]` elements.
    @inline(__always)
    private mutating func closeList(
        level: inout Int, rank: inout Int, dimensions: inout [Int], counts: [Int]
    ) throws(CodecError) {
        let closed = level - 1
        let length = counts[closed]
        if dimensions[closed] < 0 {
            dimensions[closed] = length
            if length == 0 {
                // The first list at this level is empty: the shape ends here.
                if rank < 0 {
                    rank = closed + 1
                } else if rank != closed + 1 {
                    throw DirectDecoding.fallBack
                }
            }
        } else if dimensions[closed] != length {
            throw DirectDecoding.fallBack
        }
        depth -= 1
        level -= 1
    }
}

/// The number of elements in `shape`, or `nil` when the product overflows.
func checkedElementCount(_ shape: [Int]) -> Int? {
    var count = 1
    for dimension in shape {
        let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
        if overflow || dimension < 0 { return nil }
        count = product
    }
    return count
}

extension JSONParser {
    /// `decodeLeaves(into:capacity:)` for elements of `dtype` in raw storage (not `string`).
    mutating func decodeLeaves(
        dtype: DataType, into raw: UnsafeMutableRawBufferPointer, capacity: Int
    ) throws(CodecError) -> Int {
        guard let address = raw.baseAddress else {
            // No storage: only leafless lists fit.
            let count = try skipLeaves()
            guard count == 0 else { throw DirectDecoding.fallBack }
            return 0
        }
        func dense<Element: JSONDecodableElement>(_ type: Element.Type) throws(CodecError) -> Int {
            let base = address.bindMemory(to: Element.self, capacity: capacity)
            return try decodeLeaves(into: base, capacity: capacity)
        }
        switch dtype {
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
        case .string: throw DirectDecoding.fallBack
        }
    }
}

/// Builds a fixed-width tensor of `dtype` and `shape` whose elements are the leaves of the given
/// ranges of `bytes`, in order; each range must hold exactly `perRange` leaves (nested in any way:
/// the caller has checked whatever structure it needs).
func directTensor(
    dtype: DataType, shape: [Int], from bytes: UnsafeBufferPointer<UInt8>, ranges: [Range<Int>], perRange: Int
) throws(CodecError) -> Tensor {
    guard dtype != .string else { throw DirectDecoding.fallBack }
    let width = dtype.byteWidth ?? 1
    do {
        return try Tensor(dtype: dtype, shape: shape) { raw in
            guard raw.count == perRange * ranges.count * width else { throw DirectDecoding.fallBack }
            for (index, range) in ranges.enumerated() {
                // Already checked once: its nesting is within the limit, so none applies here.
                var parser = JSONParser(bytes: UnsafeBufferPointer(rebasing: bytes[..<range.upperBound]), maximumDepth: .max)
                parser.position = range.lowerBound
                let part = UnsafeMutableRawBufferPointer(rebasing: raw[(index * perRange * width)...].prefix(perRange * width))
                let written = try parser.decodeLeaves(dtype: dtype, into: part, capacity: perRange)
                guard written == perRange, parser.position == range.upperBound else { throw DirectDecoding.fallBack }
            }
        }
    } catch {
        throw DirectDecoding.fallBack
    }
}
