import Foundation
import Prometheus
import Synchronization
import WharfRuntime

/// The process's own metrics, read when `/metrics` is scraped: resident memory, CPU time and open
/// file descriptors, under their conventional Prometheus names.
final class ProcessSampler: Sendable {
    private let memory: Gauge
    private let descriptors: Gauge
    private let cpu: Counter
    private let startTime: Gauge
    private let lastCPU = Mutex<Double>(0)

    init(registry: PrometheusCollectorRegistry) {
        memory = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "process", metricName: "resident_memory", unitName: "bytes", helpText: "Resident memory of the wharf process."))
        descriptors = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "process", metricName: "open", unitName: "fds", helpText: "Open file descriptors."))
        cpu = registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "process", metricName: "cpu_seconds", unitName: "total", helpText: "User and system CPU time spent, in seconds."))
        startTime = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "process", metricName: "start_time", unitName: "seconds", helpText: "When the process started, in seconds since 1970."))
        startTime.set(to: Date().timeIntervalSince1970 - ProcessInfo.processInfo.systemUptime + Self.uptimeAtStart())
    }

    func residentMemory() -> Int { residentMemoryBytes() }

    func sample() {
        memory.set(to: Double(residentMemoryBytes()))
        descriptors.set(to: Double(((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).count))
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        let seconds = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        let delta = lastCPU.withLock { last -> Double in
            defer { last = max(last, seconds) }
            return max(0, seconds - last)
        }
        if delta > 0 { cpu.increment(by: delta) }
    }

    /// System uptime when this process started (from /proc/self/stat's start time in clock ticks).
    private static func uptimeAtStart() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return ProcessInfo.processInfo.systemUptime }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // Field 22 of the whole line is the start time; after "pid (comm)" it is index 19.
        guard fields.count > 19, let ticks = Double(fields[19]) else { return ProcessInfo.processInfo.systemUptime }
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
