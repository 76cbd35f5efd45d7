/// How a runtime session is set up: CPU threading, graph optimization and GPU memory. The same
/// options drive both runtimes; each takes the parts that apply to it.
public struct RuntimeOptions: Sendable, Hashable {
    /// Threads used inside one operation (a matrix multiply); 0 lets the runtime choose.
    public var intraOpThreads: Int
    /// Threads used to run independent operations concurrently; 0 lets the runtime choose.
    public var interOpThreads: Int
    /// ONNX Runtime graph optimization level.
    public var graphOptimization: GraphOptimizationLevel
    /// GPU settings, honoured by GPU builds of the runtimes and ignored by CPU builds.
    public var gpu: GPUOptions
    /// Whether ONNX Runtime's idle pool threads spin-wait for work (its default) or sleep; `false`
    /// leaves the CPU to the server's own work (request decoding) on small machines.
    public var allowSpinning: Bool?

    public init(
        intraOpThreads: Int = 0, interOpThreads: Int = 0, graphOptimization: GraphOptimizationLevel = .all,
        gpu: GPUOptions = GPUOptions(), allowSpinning: Bool? = nil
    ) {
        self.allowSpinning = allowSpinning
        self.intraOpThreads = intraOpThreads
        self.interOpThreads = interOpThreads
        self.graphOptimization = graphOptimization
        self.gpu = gpu
    }
}

/// ONNX Runtime's graph optimization levels.
public enum GraphOptimizationLevel: String, Sendable, Hashable, CaseIterable {
    case disabled = "disable_all"
    case basic
    case extended
    case all

    /// The value of ONNX Runtime's GraphOptimizationLevel enum.
    var ortValue: Int32 {
        switch self {
        case .disabled: 0
        case .basic: 1
        case .extended: 2
        case .all: 99
        }
    }
}

/// GPU memory settings, as TensorFlow's GPUOptions expresses them.
public struct GPUOptions: Sendable, Hashable {
    /// Grow GPU memory as needed instead of reserving most of it up front.
    public var allowMemoryGrowth: Bool
    /// Share of each visible GPU's memory the process may use, in (0, 1].
    public var memoryFraction: Double?
    /// Hard limit per visible GPU, in MiB (a TensorFlow virtual device of that size).
    public var memoryLimitMB: Int?
    /// GPU ordinals the process may see, in order; `nil` for all of them.
    public var visibleDevices: [Int]?

    public init(
        allowMemoryGrowth: Bool = false, memoryFraction: Double? = nil, memoryLimitMB: Int? = nil,
        visibleDevices: [Int]? = nil
    ) {
        self.allowMemoryGrowth = allowMemoryGrowth
        self.memoryFraction = memoryFraction
        self.memoryLimitMB = memoryLimitMB
        self.visibleDevices = visibleDevices
    }

    /// Whether anything differs from the runtime defaults.
    public var isDefault: Bool { self == GPUOptions() }
}
