import CWharfRuntimeABI
import Foundation
import Synchronization

/// Waiting without sleeping, for the polling workers and their callers (`worker_spin_micros`).
///
/// A polling thread gives way to other threads on its core every 64 polls. When it finds that it
/// was off the core for longer than the event loops ever keep it, another busy thread or process
/// wants that core, and polling would only wait out its time slices: the poll stops, and polling
/// pauses in the whole process for a second (threads then sleep and are woken, and a woken thread
/// preempts a busy one).
enum Polling {
    /// Off the core this long between two looks at the clock: the core is contended (a busy
    /// thread's time slice is a few milliseconds; the event loops' turns are far shorter).
    static let descheduledLimit = Duration.milliseconds(2)
    /// How long polling pauses after that.
    static let pause = Duration.seconds(1)

    private static let epoch = ContinuousClock.now
    /// Nanoseconds after `epoch` until which polling is paused.
    private static let pausedUntil = Atomic<Int64>(0)

    /// Whether polling is paused now.
    static var isPaused: Bool {
        nanoseconds(ContinuousClock.now) < pausedUntil.load(ordering: .relaxed)
    }

    /// Polls `done` until it is true (returns true), `limit` passes or the core turns out to be
    /// contended (returns false).
    static func wait(for limit: Duration, until done: () -> Bool) -> Bool {
        var last = ContinuousClock.now
        let until = last + limit
        var polls = 0
        while !done() {
            polls &+= 1
            if polls & 63 == 0 {
                let now = ContinuousClock.now
                if now >= until { return false }
                if descheduled(since: last, now: now) { return false }
                last = now
                // Lets a thread that shares this core (an event loop, say) run.
                sched_yield()
            }
            wharf_cpu_relax()
        }
        // What it waited for may have come while the thread was off the core.
        _ = descheduled(since: last, now: .now)
        return true
    }

    /// Whether the thread was off the core between `last` and `now` for longer than
    /// `descheduledLimit`; if so, pauses polling.
    private static func descheduled(since last: ContinuousClock.Instant, now: ContinuousClock.Instant) -> Bool {
        guard last.duration(to: now) > descheduledLimit else { return false }
        pausedUntil.store(nanoseconds(now + pause), ordering: .relaxed)
        return true
    }

    private static func nanoseconds(_ instant: ContinuousClock.Instant) -> Int64 {
        let (seconds, attoseconds) = epoch.duration(to: instant).components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
