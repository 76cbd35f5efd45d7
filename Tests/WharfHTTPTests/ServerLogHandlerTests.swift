import Logging
import Synchronization
import Testing
import WharfHTTP

/// The server's log handler: what a line holds, and that metadata is rendered only for lines
/// that are written.
struct ServerLogHandlerTests {
    /// Collects the lines a handler writes.
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
        var sink: ServerLogHandler.Sink { { line in self.lines.withLock { $0.append(line) } } }
    }

    /// A metadata value that counts how often it is rendered.
    final class CountingValue: CustomStringConvertible, Sendable {
        let renders = Atomic<Int>(0)
        var description: String {
            renders.add(1, ordering: .relaxed)
            return "counted"
        }
    }

    @Test func aLineHoldsLevelLabelSortedMetadataSourceAndMessage() throws {
        let lines = Lines()
        var logger = Logger(label: "wharf") { label in ServerLogHandler(label: label, level: .info, sink: lines.sink) }
        logger[metadataKey: "model"] = "mlp"
        logger[metadataKey: "api"] = "kserve"
        logger.info("loaded", metadata: ["version": "3"], source: "WharfServing")
        logger.debug("below the level")
        let written = lines.all
        try #require(written.count == 1, "\(written)")
        let line = written[0]
        #expect(line.hasSuffix(" info wharf: api=kserve model=mlp version=3 [WharfServing] loaded\n"), "\(line)")
        // 2026-11-26T04:55:01+0000: a date, a time and a UTC offset.
        let stamp = line.prefix { $0 != " " }
        #expect(stamp.count == 24, "\(stamp)")
        #expect(stamp.dropFirst(10).first == "T", "\(stamp)")
        #expect(stamp.dropFirst(19).first == "+" || stamp.dropFirst(19).first == "-", "\(stamp)")
    }

    @Test func metadataIsRenderedOnlyForLinesWritten() {
        let lines = Lines()
        let value = CountingValue()
        var logger = Logger(label: "wharf") { label in ServerLogHandler(label: label, level: .warning, sink: lines.sink) }
        for _ in 0..<100 {
            var request = logger
            request[metadataKey: "hb.request.id"] = .stringConvertible(value)
            request.info("not written")
        }
        #expect(value.renders.load(ordering: .relaxed) == 0)
        #expect(lines.all.isEmpty)
        logger[metadataKey: "hb.request.id"] = .stringConvertible(value)
        logger.warning("written")
        #expect(value.renders.load(ordering: .relaxed) == 1)
        #expect(lines.all.count == 1)
        #expect(lines.all.first?.contains(" hb.request.id=counted [") == true, "\(lines.all)")
    }

    struct Refused: Error, CustomStringConvertible {
        var description: String { "refused" }
    }

    @Test func anEventsErrorBecomesMetadata() {
        let lines = Lines()
        let logger = Logger(label: "wharf") { label in ServerLogHandler(label: label, level: .info, sink: lines.sink) }
        logger.log(level: .error, "failed", error: Refused(), source: "Tests")
        let line = lines.all.first ?? ""
        #expect(line.contains(" error.message=refused error.type="), "\(line)")
        #expect(line.contains("Refused [Tests] failed\n"), "\(line)")
    }

    @Test func laterMetadataWins() {
        let lines = Lines()
        var logger = Logger(label: "") { label in ServerLogHandler(label: label, level: .info, sink: lines.sink) }
        logger[metadataKey: "model"] = "old"
        logger.info("message", metadata: ["model": "new"], source: "Tests")
        #expect(lines.all.first?.hasSuffix(" info: model=new [Tests] message\n") == true, "\(lines.all)")
    }
}
