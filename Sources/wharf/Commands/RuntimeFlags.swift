import ArgumentParser
import WharfRuntime

/// Runtime settings shared by the commands that load a model.
struct RuntimeFlags: ParsableArguments {
    @Option(name: .customLong("intra-op-threads"), help: "Threads inside one operation (0: the runtime's default).")
    var intraOpThreads: Int = 0

    @Option(name: .customLong("inter-op-threads"), help: "Operations run side by side (0: the runtime's default).")
    var interOpThreads: Int = 0

    @Option(help: "ONNX Runtime graph optimization: disable_all, basic, extended, all.")
    var optimization: String = GraphOptimizationLevel.all.rawValue

    func validate() throws {
        guard intraOpThreads >= 0, interOpThreads >= 0 else {
            throw ValidationError("thread counts are 0 (runtime default) or positive")
        }
        guard GraphOptimizationLevel(rawValue: optimization) != nil else {
            throw ValidationError(
                "--optimization expects one of \(GraphOptimizationLevel.allCases.map(\.rawValue).joined(separator: ", ")), got '\(optimization)'")
        }
    }

    /// A model loader with these settings.
    var loader: ModelLoader {
        ModelLoader(options: RuntimeOptions(
            intraOpThreads: intraOpThreads, interOpThreads: interOpThreads,
            graphOptimization: GraphOptimizationLevel(rawValue: optimization) ?? .all))
    }
}
