public import WharfCore

/// Why a registry operation was refused or failed. Messages name the model, version or alias
/// concerned and say what was expected.
public struct RegistryError: WharfError, Sendable {
    public enum Kind: Sendable, Equatable {
        case invalidName
        case modelNotFound
        case versionNotFound
        case aliasNotFound
        case notAModel
        case versionInUse
        case noRollbackTarget
        case hashMismatch
        case artifactMissing
        case storage
        case unauthenticated
        case invalidArgument
        case conflict
    }

    public var kind: Kind
    public var message: String
    public var cause: (any Error)?

    public init(_ kind: Kind, _ message: String, cause: (any Error)? = nil) {
        self.kind = kind
        self.message = message
        self.cause = cause
    }

    public var status: StatusCode {
        switch kind {
        case .invalidName, .notAModel, .invalidArgument: .invalidArgument
        case .modelNotFound, .versionNotFound, .aliasNotFound, .artifactMissing: .notFound
        case .versionInUse, .noRollbackTarget, .conflict: .failedPrecondition
        case .hashMismatch: .dataLoss
        case .storage: .internal
        case .unauthenticated: .unauthenticated
        }
    }
}
