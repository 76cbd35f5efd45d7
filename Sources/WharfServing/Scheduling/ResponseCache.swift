import Synchronization
import WharfCore

/// A least-recently-used cache of responses, bounded in bytes. Keys are the signature, the outputs
/// asked for and the inputs' exact bytes; a hit is confirmed by comparing the stored inputs, so a
/// hash collision can never return another request's answer. Each servable (one model version)
/// has its own cache, so a version change never serves a stale entry.
final class ResponseCache: Sendable {
    private struct Entry {
        var signature: String
        var outputNames: [String]?
        var inputs: [String: Tensor]
        var outputs: [String: Tensor]
        var bytes: Int
        var previous: Int?
        var next: Int?
    }

    private struct State {
        var entries: [Int: Entry] = [:]
        var newest: Int?
        var oldest: Int?
        var bytes = 0
        var hits = 0
        var misses = 0
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) { self.capacity = capacity }

    /// Hits and misses so far.
    var counts: (hits: Int, misses: Int) { state.withLock { ($0.hits, $0.misses) } }

    /// Bytes held.
    var bytes: Int { state.withLock { $0.bytes } }

    static func key(signature: String, outputs: [String]?, inputs: [String: Tensor]) -> Int {
        var hasher = Hasher()
        hasher.combine(signature)
        hasher.combine(outputs)
        for name in inputs.keys.sorted() {
            let tensor = inputs[name]!
            hasher.combine(name)
            hasher.combine(tensor.dtype)
            hasher.combine(tensor.shape)
            if tensor.dtype == .string {
                hasher.combine((try? tensor.strings()) ?? [])
            } else {
                tensor.withUnsafeBytes { hasher.combine(bytes: $0) }
            }
        }
        return hasher.finalize()
    }

    /// The cached outputs for this request, if any.
    func lookup(key: Int, signature: String, outputs: [String]?, inputs: [String: Tensor]) -> [String: Tensor]? {
        state.withLock { state in
            guard let entry = state.entries[key], entry.signature == signature, entry.outputNames == outputs,
                entry.inputs == inputs
            else {
                state.misses += 1
                return nil
            }
            state.hits += 1
            ResponseCache.unlink(key, in: &state)
            ResponseCache.pushNewest(key, in: &state)
            return entry.outputs
        }
    }

    /// Stores a response, evicting the least recently used ones to stay within capacity.
    func store(key: Int, signature: String, outputs outputNames: [String]?, inputs: [String: Tensor], results: [String: Tensor]) {
        let size = (inputs.values.reduce(0) { $0 + $1.byteCount } + results.values.reduce(0) { $0 + $1.byteCount }) + 256
        guard size <= capacity else { return }
        state.withLock { state in
            if state.entries[key] != nil {
                ResponseCache.unlink(key, in: &state)
                state.bytes -= state.entries.removeValue(forKey: key)!.bytes
            }
            while state.bytes + size > capacity, let oldest = state.oldest {
                ResponseCache.unlink(oldest, in: &state)
                state.bytes -= state.entries.removeValue(forKey: oldest)!.bytes
            }
            state.entries[key] = Entry(
                signature: signature, outputNames: outputNames, inputs: inputs, outputs: results, bytes: size)
            state.bytes += size
            ResponseCache.pushNewest(key, in: &state)
        }
    }

    private static func unlink(_ key: Int, in state: inout State) {
        guard let entry = state.entries[key] else { return }
        if let previous = entry.previous { state.entries[previous]?.next = entry.next } else { state.newest = entry.next }
        if let next = entry.next { state.entries[next]?.previous = entry.previous } else { state.oldest = entry.previous }
        state.entries[key]?.previous = nil
        state.entries[key]?.next = nil
    }

    private static func pushNewest(_ key: Int, in state: inout State) {
        state.entries[key]?.next = state.newest
        state.entries[key]?.previous = nil
        if let newest = state.newest { state.entries[newest]?.previous = key }
        state.newest = key
        if state.oldest == nil { state.oldest = key }
    }
}
