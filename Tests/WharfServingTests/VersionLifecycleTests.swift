import Testing
import WharfServing

/// The version state machine, event by event, without I/O.
struct VersionLifecycleTests {
    @Test func loadThenServeThenUnload() {
        var lifecycle = VersionLifecycle()
        #expect(lifecycle.state == .unavailable)
        #expect(lifecycle.handle(.load) == .startLoading)
        #expect(lifecycle.state == .loading)
        #expect(lifecycle.handle(.loadSucceeded) == .publish)
        #expect(lifecycle.state == .ready)
        #expect(lifecycle.handle(.unload) == .withdraw)
        #expect(lifecycle.state == .unloading)
        #expect(lifecycle.handle(.drained) == .release)
        #expect(lifecycle.state == .unavailable)
        #expect(lifecycle.error == nil)
    }

    @Test func failedLoadReportsAndCanBeRetried() {
        var lifecycle = VersionLifecycle()
        _ = lifecycle.handle(.load)
        #expect(lifecycle.handle(.loadFailed("corrupt saved_model.pb")) == .reportFailure("corrupt saved_model.pb"))
        #expect(lifecycle.state == .unavailable)
        #expect(lifecycle.error == "corrupt saved_model.pb")
        #expect(lifecycle.handle(.load) == .startLoading)
        #expect(lifecycle.error == nil)
    }

    @Test func unloadDuringLoadDiscardsTheResult() {
        var lifecycle = VersionLifecycle()
        _ = lifecycle.handle(.load)
        #expect(lifecycle.handle(.unload) == .none)
        #expect(lifecycle.state == .loading)
        #expect(lifecycle.handle(.loadSucceeded) == .release)
        #expect(lifecycle.state == .unavailable)
    }

    @Test func loadAgainCancelsAPendingUnload() {
        var lifecycle = VersionLifecycle()
        _ = lifecycle.handle(.load)
        _ = lifecycle.handle(.unload)
        #expect(lifecycle.handle(.load) == .none)
        #expect(lifecycle.handle(.loadSucceeded) == .publish)
    }

    @Test func repeatedAndLateEventsChangeNothing() {
        var lifecycle = VersionLifecycle()
        #expect(lifecycle.handle(.unload) == .none)
        #expect(lifecycle.handle(.drained) == .none)
        #expect(lifecycle.handle(.loadSucceeded) == .none)
        _ = lifecycle.handle(.load)
        _ = lifecycle.handle(.loadSucceeded)
        #expect(lifecycle.handle(.load) == .none)
        #expect(lifecycle.handle(.loadSucceeded) == .none)
        _ = lifecycle.handle(.unload)
        #expect(lifecycle.handle(.unload) == .none)
        #expect(lifecycle.handle(.load) == .none)
        #expect(lifecycle.state == .unloading)
    }

    @Test func tensorFlowServingStateNames() {
        #expect(VersionState.ready.tensorFlowServingName == "AVAILABLE")
        #expect(VersionState.unavailable.tensorFlowServingName == "END")
        #expect(VersionState.loading.tensorFlowServingName == "LOADING")
    }
}
