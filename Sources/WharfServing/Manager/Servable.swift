import Synchronization
public import WharfCore
public import WharfRuntime

/// A loaded model version that serves requests. Requests hold a `ServableLease`; a version being
/// unloaded stops getting new leases and is released once the last lease is gone, so a swap never
/// pulls a model out from under a request.
public final class Servable: Sendable {
    public let name: String
    public let version: Int64
    public let model: any InferenceModel
    /// Where the version was loaded from.
    public let path: String
    private let executor: InferenceExecutor
    private let leases = Atomic<Int>(0)

    init(name: String, version: Int64, model: any InferenceModel, path: String, executor: InferenceExecutor) {
        self.name = name
        self.version = version
        self.model = model
        self.path = path
        self.executor = executor
    }

    /// Requests currently holding this version.
    public var inFlight: Int { leases.load(ordering: .acquiring) }

    func retain() { leases.add(1, ordering: .relaxed) }
    func release() { leases.subtract(1, ordering: .releasing) }

    /// Runs a signature on the inference threads (never on the caller's thread).
    public func run(signature: String?, inputs: [String: Tensor], outputs: [String]?) async throws -> [String: Tensor] {
        let model = self.model
        return try await executor.run { try model.run(signature: signature, inputs: inputs, outputs: outputs) }
    }
}

/// A request's hold on a servable; the servable is not released while a lease exists.
public final class ServableLease: Sendable {
    public let servable: Servable

    init(_ servable: Servable) {
        servable.retain()
        self.servable = servable
    }

    deinit { servable.release() }
}
