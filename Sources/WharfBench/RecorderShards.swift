import Synchronization

/// A fixed number of latency recorders behind their own locks, so many concurrent requests can
/// record without contending on one lock and without a histogram per request task.
final class RecorderShards: Sendable {
    private final class Shard: Sendable {
        let recorder = Mutex(LatencyRecorder())
    }

    private let shards: [Shard]

    /// `count` shards (at least one).
    init(count: Int) {
        shards = (0..<Swift.max(1, count)).map { _ in Shard() }
    }

    /// Records into the shard for `key` (a worker or request index).
    func withRecorder(_ key: Int, _ body: (inout LatencyRecorder) -> Void) {
        shards[key % shards.count].recorder.withLock { body(&$0) }
    }

    /// Every shard merged into one.
    func merged() -> LatencyRecorder {
        var total = LatencyRecorder()
        for shard in shards {
            shard.recorder.withLock { total.merge($0) }
        }
        return total
    }
}
