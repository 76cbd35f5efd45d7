import Testing
import WharfServing

@Suite struct TrafficSplitTests {
    @Test func aStickySplitSendsTheSameValueTheSameWayAndKeepsItsShare() {
        let split = TrafficSplit(label: "canary", weight: 0.2, stickyHeader: "X-User")
        let users = (0..<5000).map { "user-\($0)" }
        let chosen = users.filter { split.choosesSplit(stickyValue: $0) }
        #expect(abs(Double(chosen.count) / Double(users.count) - 0.2) < 0.03)
        for user in users.prefix(100) { #expect(split.choosesSplit(stickyValue: user) == split.choosesSplit(stickyValue: user)) }
    }

    @Test func aRandomSplitKeepsItsShareAndTheEndsAreExact() {
        let split = TrafficSplit(label: "canary", weight: 0.3)
        let hits = (0..<20000).filter { _ in split.choosesSplit(stickyValue: nil) }.count
        #expect(abs(Double(hits) / 20000 - 0.3) < 0.02)
        #expect(!TrafficSplit(label: "c", weight: 0).choosesSplit(stickyValue: "a"))
        #expect(TrafficSplit(label: "c", weight: 1).choosesSplit(stickyValue: "a"))
    }

    @Test func theModelConfigReadsASplitAndRefusesABadOne() throws {
        let config = try ModelConfig.parse(yaml: "traffic_split: {label: canary, weight: 0.1, sticky_header: X-User}\n")
        #expect(config.trafficSplit == TrafficSplit(label: "canary", weight: 0.1, stickyHeader: "X-User"))
        #expect(throws: ConfigError.self) { try ModelConfig.parse(yaml: "traffic_split: {label: canary, weight: 2}\n") }
    }
}
