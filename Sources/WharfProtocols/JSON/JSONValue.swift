/// A parsed JSON value.
///
/// Numbers keep the form they were written in: a token without fraction or exponent is an exact
/// integer (`int`, or `uint` above `Int64.max`), anything else a `double`. `NaN`, `Infinity` and
/// `-Infinity` are accepted as doubles, as TensorFlow Serving does.
public enum JSONValue: Sendable, Hashable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// An integer token that fits `Int64`.
    case int(Int64)
    /// An integer token above `Int64.max` that fits `UInt64`.
    case uint(UInt64)
    /// A number with fraction or exponent, an integer too large for 64 bits, `-0`, or one of `NaN`,
    /// `Infinity`, `-Infinity`.
    case double(Double)
    /// A string.
    case string(String)
    /// A list.
    case array([JSONValue])
    /// An object, its members in the order they were written.
    case object(JSONObject)

    /// The number as a `Double` (rounded for integers above 2^53); `nil` for anything else.
    public var doubleValue: Double? {
        switch self {
        case .int(let value): Double(value)
        case .uint(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }

    /// Whether the value is a number (`int`, `uint` or `double`).
    public var isNumber: Bool {
        switch self {
        case .int, .uint, .double: true
        default: false
        }
    }

    /// The string, if the value is one.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The elements, if the value is a list.
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The object, if the value is one.
    public var objectValue: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// The first member of an object with the given key; `nil` for other values or a missing key.
    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }

    /// A few words naming the kind of value, for error messages: `a string`, `a list`, `null`, ...
    public var kindDescription: String {
        switch self {
        case .null: "null"
        case .bool: "a bool"
        case .int, .uint, .double: "a number"
        case .string: "a string"
        case .array: "a list"
        case .object: "an object"
        }
    }

    /// The value as it would appear in an error message: numbers and bools as written, strings
    /// quoted and shortened, lists and objects by kind and size.
    public var briefDescription: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .int, .uint, .double:
            var writer = JSONWriter()
            writer.write(self)
            return String(decoding: writer.bytes, as: UTF8.self)
        case .string(let value):
            let limit = 40
            let shown = value.count > limit ? String(value.prefix(limit)) + "..." : value
            var writer = JSONWriter()
            writer.writeString(shown)
            return "a string " + String(decoding: writer.bytes, as: UTF8.self)
        case .array(let elements): return "a list of \(elements.count)"
        case .object(let object):
            let keys = object.members.prefix(8).map { "'\($0.key)'" }.joined(separator: ", ")
            return object.isEmpty ? "an empty object" : "an object with keys \(keys)\(object.count > 8 ? ", ..." : "")"
        }
    }
}

/// A JSON object: its members in the order they were written. Duplicate keys are kept; lookup by
/// key finds the first.
public struct JSONObject: Sendable, Hashable, RandomAccessCollection {
    /// One key and its value.
    public struct Member: Sendable, Hashable {
        /// The key.
        public var key: String
        /// The value.
        public var value: JSONValue

        /// Creates a member.
        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// The members in written order.
    public var members: [Member]

    /// An object with the given members, in that order.
    public init(_ members: [Member] = []) {
        self.members = members
    }

    /// An object with the given key-value pairs, in that order.
    public init(_ pairs: KeyValuePairs<String, JSONValue>) {
        self.members = pairs.map { Member(key: $0.key, value: $0.value) }
    }

    /// The first member with the given key's value, if any.
    public subscript(key: String) -> JSONValue? {
        for member in members where member.key == key { return member.value }
        return nil
    }

    /// The keys in written order.
    public var keys: [String] { members.map(\.key) }

    /// The first key that appears more than once, if any.
    public var firstDuplicateKey: String? {
        guard members.count > 1 else { return nil }
        if members.count <= 8 {
            for i in members.indices {
                for j in members.indices where j > i && members[j].key == members[i].key { return members[i].key }
            }
            return nil
        }
        var seen = Set<String>(minimumCapacity: members.count)
        for member in members where !seen.insert(member.key).inserted { return member.key }
        return nil
    }

    /// The position of the first member.
    public var startIndex: Int { members.startIndex }
    /// The position after the last member.
    public var endIndex: Int { members.endIndex }
    /// The member at `position`.
    public subscript(position: Int) -> Member { members[position] }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    /// `null`.
    public init(nilLiteral: ()) { self = .null }
    /// A bool.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// An integer.
    public init(integerLiteral value: Int64) { self = .int(value) }
    /// A double.
    public init(floatLiteral value: Double) { self = .double(value) }
    /// A string.
    public init(stringLiteral value: String) { self = .string(value) }
    /// A list.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// An object with the members in the order written.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements.map { JSONObject.Member(key: $0.0, value: $0.1) }))
    }
}
