public import Logging
public import ServiceLifecycle
import Synchronization

/// Polls the model repository and hands the manager what it finds.
///
/// A version directory is picked up once it is complete, which the watcher takes to mean that its
/// contents (file names, sizes, modification times) did not change between two polls. Writers that
/// want it picked up at the next poll write it elsewhere and rename it into place. The very first
/// scan at start-up, and explicit requests (`indexNow`, the repository API), take every version
/// directory as it is.
public final class RepositoryWatcher: Service, Sendable {
    public let scanner: RepositoryScanner
    public let manager: ModelManager
    public let interval: Duration
    private let logger: Logger
    /// Per model and version: the last fingerprint seen, and whether the version counted as complete.
    private let seen = Mutex<[String: [Int64: (fingerprint: Int, complete: Bool)]]>([:])

    public init(scanner: RepositoryScanner, manager: ModelManager, interval: Duration, logger: Logger = Logger(label: "wharf.repository")) {
        self.scanner = scanner
        self.manager = manager
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await runPeriodically(every: { self.interval }) { await self.poll() }
    }

    /// One poll: new version directories count once they are stable.
    public func poll() async {
        let scan = scanner.scan()
        let complete = seen.withLock { seen -> [String: ModelSource] in
            var result: [String: ModelSource] = [:]
            var next: [String: [Int64: (fingerprint: Int, complete: Bool)]] = [:]
            for (name, source) in scan {
                var filtered = source
                filtered.versions = [:]
                for (version, versionSource) in source.versions {
                    let previous = seen[name]?[version]
                    let isComplete = previous?.complete == true || previous?.fingerprint == versionSource.fingerprint
                    next[name, default: [:]][version] = (versionSource.fingerprint, isComplete)
                    if isComplete { filtered.versions[version] = versionSource }
                }
                result[name] = filtered
            }
            seen = next
            return result
        }
        await manager.apply(complete)
    }

    /// Scans now and takes every version directory as complete (start-up, explicit index requests).
    public func indexNow() async {
        let scan = scanner.scan()
        seen.withLock { seen in
            seen = scan.mapValues { source in source.versions.mapValues { ($0.fingerprint, true) } }
        }
        await manager.apply(scan)
    }
}
