/// `GET /wharf/status`: every version's state and windows, process memory and the alerts active;
/// what `wharf status` and the dashboard read.
public struct StatusReport: Sendable, Codable {
    /// One model version.
    public struct Version: Sendable, Codable {
        public var model: String
        public var version: Int64
        public var state: String
        public var error: String?
        /// The labels (aliases) that point at it.
        public var labels: [String]
        /// By window name (`1m`, `5m`).
        public var windows: [String: WindowStats]

        public init(model: String, version: Int64, state: String, error: String?, labels: [String], windows: [String: WindowStats]) {
            self.model = model
            self.version = version
            self.state = state
            self.error = error
            self.labels = labels
            self.windows = windows
        }
    }

    public var uptimeSeconds: Double
    public var residentMemoryBytes: Int
    /// The window names, shortest first.
    public var windows: [String]
    public var models: [Version]
    public var alerts: [ActiveAlert]

    public init(uptimeSeconds: Double, residentMemoryBytes: Int, windows: [String], models: [Version], alerts: [ActiveAlert]) {
        self.uptimeSeconds = uptimeSeconds
        self.residentMemoryBytes = residentMemoryBytes
        self.windows = windows
        self.models = models
        self.alerts = alerts
    }

    enum CodingKeys: String, CodingKey {
        case windows, models, alerts
        case uptimeSeconds = "uptime_seconds"
        case residentMemoryBytes = "resident_memory_bytes"
    }
}
