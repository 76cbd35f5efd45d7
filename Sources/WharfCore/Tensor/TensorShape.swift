/// The shape a signature declares for a tensor: a known or unknown rank, and per dimension a size
/// or `-1` when the size is only known at run time (usually the batch dimension).
public struct TensorShape: Sendable, Hashable, CustomStringConvertible {
    /// The dimension sizes, `-1` for an unknown size; `nil` when even the rank is unknown.
    public var dimensions: [Int]?

    /// A shape of known rank. Use `-1` for a dimension of unknown size.
    public init(_ dimensions: [Int]) {
        self.dimensions = dimensions.map { $0 < 0 ? -1 : $0 }
    }

    /// A shape whose rank is not known.
    public static let unknownRank = TensorShape(rank: nil)

    private init(rank: [Int]?) {
        self.dimensions = rank
    }

    /// The number of dimensions, `nil` when unknown.
    public var rank: Int? { dimensions?.count }

    /// Whether every dimension has a known size.
    public var isFullyDefined: Bool { dimensions.map { !$0.contains(-1) } ?? false }

    /// Whether a concrete shape fits this declared one (same rank, equal sizes where known).
    public func accepts(_ concrete: [Int]) -> Bool {
        guard let dimensions else { return true }
        guard dimensions.count == concrete.count else { return false }
        return zip(dimensions, concrete).allSatisfy { $0 == -1 || $0 == $1 }
    }

    public var description: String {
        guard let dimensions else { return "<unknown rank>" }
        return "[" + dimensions.map(String.init).joined(separator: ", ") + "]"
    }
}

extension Array where Element == Int {
    /// The number of elements a tensor of this concrete shape holds.
    package var elementCount: Int { reduce(1, *) }

    /// The shape written as `[2, 784]`.
    package var shapeDescription: String { "[" + map(String.init).joined(separator: ", ") + "]" }
}
