import Foundation
import Synchronization

/// One run of a child process: its standard output collected, its standard error split into lines
/// as they come. The blocking reads and the wait happen on threads of their own, never on Swift's
/// cooperative pool; cancelling the awaiting task terminates the child.
struct ConverterProcess {
    struct Outcome {
        var status: Int32
        var stdout: Data
        /// The last standard-error lines that were not handed to `onLine`'s caller as progress.
        var stderrTail: [String]
    }

    var executable: String
    var arguments: [String]
    var environment: [String: String]

    /// Runs the process to its end. `onLine` sees every standard-error line, in order, on a
    /// background thread; it returns whether the line was progress (otherwise it is kept for the tail).
    func run(onLine: @escaping @Sendable (String) -> Bool) async throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let handle = ProcessHandle(process)
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
                let collected = Mutex(Data())
                let stdoutDone = DispatchSemaphore(value: 0)
                let reader = Thread {
                    let data = stdout.fileHandleForReading.readDataToEndOfFile()
                    collected.withLock { $0 = data }
                    stdoutDone.signal()
                }
                reader.name = "wharf-converter-stdout"
                reader.start()
                let watcher = Thread {
                    let tail = Self.readLines(stderr.fileHandleForReading, onLine: onLine)
                    stdoutDone.wait()
                    let status = handle.waitForExit()
                    continuation.resume(returning: Outcome(status: status, stdout: collected.withLock { $0 }, stderrTail: tail))
                }
                watcher.name = "wharf-converter-stderr"
                watcher.start()
            }
        } onCancel: {
            handle.terminate()
        }
    }

    /// Reads `handle` to its end line by line; returns the last 40 lines that were not progress.
    private static func readLines(_ handle: FileHandle, onLine: (String) -> Bool) -> [String] {
        var pending = Data()
        var tail: [String] = []
        func emit(_ bytes: Data) {
            let line = String(decoding: bytes, as: UTF8.self)
            if !onLine(line) {
                tail.append(line)
                if tail.count > 40 { tail.removeFirst() }
            }
        }
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            pending.append(chunk)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                emit(pending[pending.startIndex..<newline])
                pending.removeSubrange(pending.startIndex...newline)
            }
        }
        if !pending.isEmpty { emit(pending) }
        return tail
    }
}

/// A running child process shared between the waiting thread and a cancellation handler.
private final class ProcessHandle: Sendable {
    private let process: Mutex<Process>

    init(_ process: Process) {
        self.process = Mutex(process)
    }

    func terminate() {
        process.withLock { if $0.isRunning { $0.terminate() } }
    }

    func waitForExit() -> Int32 {
        let process = self.process.withLock { $0 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
