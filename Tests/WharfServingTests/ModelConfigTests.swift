import Testing
import WharfRuntime
import WharfServing

struct ModelConfigTests {
    @Test func parsesEverySetting() throws {
        let config = try ModelConfig.parse(yaml: """
            version_policy: {specific: [1, 3]}
            labels: {stable: 1, canary: 3}
            runtime: onnxruntime
            threads: {intra_op: 2, inter_op: 1}
            optimization: basic
            gpu: {allow_growth: true, memory_fraction: 0.5, memory_limit_mb: 1024, visible_devices: [0, 1]}
            """)
        #expect(config.versionPolicy == .specific([1, 3]))
        #expect(config.labels == ["stable": 1, "canary": 3])
        #expect(config.runtime == .onnxruntime)
        #expect(config.options.intraOpThreads == 2)
        #expect(config.options.graphOptimization == .basic)
        #expect(config.options.gpu == GPUOptions(allowMemoryGrowth: true, memoryFraction: 0.5, memoryLimitMB: 1024, visibleDevices: [0, 1]))
    }

    @Test func defaultsAndPolicies() throws {
        #expect(try ModelConfig.parse(yaml: "") == ModelConfig())
        #expect(try ModelConfig.parse(yaml: "version_policy: all").versionPolicy == .all)
        #expect(try ModelConfig.parse(yaml: "version_policy: {latest: 2}").versionPolicy == .latest(2))
        #expect(ModelConfig.VersionPolicy.latest(2).select(from: [1, 5, 3]) == [5, 3])
        #expect(ModelConfig.VersionPolicy.specific([1, 9]).select(from: [1, 5]) == [1])
        #expect(ModelConfig.VersionPolicy.all.select(from: [1, 5]) == [1, 5])
    }

    @Test(arguments: [
        ("lables: {a: 1}", "unknown key 'lables'"),
        ("version_policy: {latest: 0}", "version_policy.latest expects a positive integer"),
        ("version_policy: newest", "version_policy expects all"),
        ("runtime: pytorch", "runtime expects tensorflow or onnxruntime, got 'pytorch'"),
        ("threads: {intra: 2}", "unknown key 'threads.intra'"),
        ("labels: {stable: latest}", "labels.stable expects a version number"),
        ("[1, 2]", "expected a mapping"),
        ("a: [unclosed", "not valid YAML"),
    ])
    func badConfigsSayWhatIsWrong(yaml: String, fragment: String) {
        do {
            _ = try ModelConfig.parse(yaml: yaml, source: "m/wharf.yaml")
            Issue.record("expected an error for \(yaml)")
        } catch {
            #expect(error.message.contains(fragment), "\(error.message)")
            #expect(error.message.hasPrefix("m/wharf.yaml"))
        }
    }
}
