import ArgumentParser

/// The `wharf` command: takes TensorFlow models to production and keeps them healthy there.
@main
struct Wharf: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wharf",
        abstract: "Deploy and serve TensorFlow models: inspect, predict, convert, serve, monitor.",
        discussion: """
            Runtimes: TensorFlow (SavedModels) and ONNX Runtime (.onnx), opened from the project's .venv \
            (created by scripts/bootstrap) or from WHARF_TF_LIB / WHARF_ORT_LIB.
            """,
        subcommands: [
            Doctor.self, Inspect.self, Predict.self, Serve.self, Bench.self, Models.self, Versions.self, Alias.self, Rollback.self,
            History.self, Retention.self, GarbageCollect.self, Status.self, Alerts.self, Convert.self, Parity.self, Deploy.self, Traffic.self,
            Runs.self,
        ]
    )
}
