public import WharfRuntime

/// How a request names a version.
public enum VersionSelector: Sendable, Hashable, CustomStringConvertible {
    /// The highest ready version.
    case latest
    /// A version number.
    case number(Int64)
    /// A version label from the model's config (`stable`, `canary`, ...).
    case label(String)

    public var description: String {
        switch self {
        case .latest: "latest"
        case .number(let version): "version \(version)"
        case .label(let label): "label '\(label)'"
        }
    }
}

/// One version's state, for status endpoints.
public struct VersionStatus: Sendable, Equatable {
    public var version: Int64
    public var state: VersionState
    /// Why the version failed to load, when it did.
    public var error: String?
    /// The runtime serving it, once loaded.
    public var runtime: RuntimeKind?
}

/// One model's state, for status endpoints.
public struct ModelStatus: Sendable, Equatable {
    public var name: String
    public var versions: [VersionStatus]
    public var labels: [String: Int64]
    /// Why the model's config file was rejected (the previous or default config is in use).
    public var configError: String?
    /// Whether the model was unloaded through the repository API (the watcher leaves it alone).
    public var explicitlyUnloaded: Bool

    /// Whether any version is ready.
    public var isReady: Bool { versions.contains { $0.state == .ready } }
}
