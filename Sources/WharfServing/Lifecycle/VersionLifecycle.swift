/// The serving states of one model version, as Triton names them.
public enum VersionState: String, Sendable, Hashable, CaseIterable {
    /// Being loaded (and warmed up); not serving yet.
    case loading = "LOADING"
    /// Serving requests.
    case ready = "READY"
    /// Taking no new requests; requests in flight finish on it.
    case unloading = "UNLOADING"
    /// Not loaded: never loaded, unloaded, or failed to load (then `error` says why).
    case unavailable = "UNAVAILABLE"

    /// TensorFlow Serving's name of the state (ModelVersionStatus.State).
    public var tensorFlowServingName: String {
        switch self {
        case .loading: "LOADING"
        case .ready: "AVAILABLE"
        case .unloading: "UNLOADING"
        case .unavailable: "END"
        }
    }
}

/// The life of one model version as a pure state machine: events in, the action to take out.
/// It does no I/O, so every transition is tested without loading a model.
public struct VersionLifecycle: Sendable, Equatable {
    /// What happened.
    public enum Event: Sendable, Equatable {
        /// The version should be served.
        case load
        /// The runtime loaded (and warmed) the version.
        case loadSucceeded
        /// Loading failed for the given reason.
        case loadFailed(String)
        /// The version should stop serving.
        case unload
        /// No request is running on the version any more.
        case drained
    }

    /// What the owner must do.
    public enum Action: Sendable, Equatable {
        /// Start loading the version.
        case startLoading
        /// Route requests to the freshly loaded version.
        case publish
        /// Stop routing new requests to the version and wait for the ones in flight.
        case withdraw
        /// Free the loaded model (a load that finished after its unload was asked for, or a drained version).
        case release
        /// Record the load failure; serving versions stay as they are.
        case reportFailure(String)
        /// Nothing to do.
        case none
    }

    public private(set) var state: VersionState = .unavailable
    /// Why the last load failed, while the version is unavailable because of it.
    public private(set) var error: String?
    /// An unload was asked for while loading; the load's result is discarded.
    private var unloadWhenLoaded = false

    public init() {}

    /// Applies `event` and returns what to do.
    public mutating func handle(_ event: Event) -> Action {
        switch (state, event) {
        case (.unavailable, .load):
            state = .loading
            error = nil
            unloadWhenLoaded = false
            return .startLoading
        case (.loading, .load):
            unloadWhenLoaded = false
            return .none
        case (.loading, .loadSucceeded):
            if unloadWhenLoaded {
                state = .unavailable
                unloadWhenLoaded = false
                return .release
            }
            state = .ready
            return .publish
        case (.loading, .loadFailed(let reason)):
            state = .unavailable
            error = reason
            unloadWhenLoaded = false
            return .reportFailure(reason)
        case (.loading, .unload):
            unloadWhenLoaded = true
            return .none
        case (.ready, .unload):
            state = .unloading
            return .withdraw
        case (.unloading, .drained):
            state = .unavailable
            return .release
        default:
            // Repeated or late events (a second unload, load while ready or unloading) change nothing.
            return .none
        }
    }
}
