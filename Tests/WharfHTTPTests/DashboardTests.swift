import Foundation
import Testing
import WharfRegistry
import WharfTesting

/// `GET /dashboard` in a real headless Chromium against a live server with a registry: what the
/// page rendered (its DOM) matches the JSON APIs, and its charts drew something (its screenshot;
/// `WHARF_DASHBOARD_SCREENSHOT=PATH` keeps a copy to look at).
@Suite(
    .enabled(if: Fixtures.available, "run scripts/bootstrap to build the fixtures"),
    .enabled(if: HeadlessChromium.path != nil, "no chromium binary (apt-get install chromium)"))
struct DashboardTests {
    static let token = "dash-s3cret"

    @Test func thePageShowsWhatTheAPIsSayAndDrawsItsCharts() async throws {
        let (registry, directory) = try await RegistryServingTests.registry(versions: 2)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try await registry.setAlias(model: "mlp", alias: "production", version: 1, actor: "test")
        _ = try await registry.setAlias(model: "mlp", alias: "staging", version: 2, actor: "test")
        _ = try await registry.setAlias(model: "mlp", alias: "production", version: 2, actor: "test", reason: "better")
        _ = try await registry.rollback(model: "mlp", alias: "production", actor: "test", reason: "worse after all")
        let scratch = try ScratchRepository()
        let server = try await TestServer.start(repository: scratch.root, registry: registry, apiToken: Self.token)
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("wharf-dashboard-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }

        // The page itself: one self-contained document that loads nothing from anywhere.
        let page = try await server.get("/dashboard")
        #expect(page.status == 200)
        #expect(page.headers["content-type"] == "text/html; charset=utf-8")
        #expect(page.headers["content-security-policy"]?.contains("connect-src 'self'") == true)
        #expect(page.text.contains(#"<script id="wharf-data" type="application/json">"#))
        for external in ["src=", "href=", "@import", "url("] { #expect(!page.text.contains(external), "the page references \(external)") }
        #expect(try await server.get("/pipeline/runs").text == "[]")

        // Traffic on both versions for a few seconds, so the windows have data.
        try await Self.sendTraffic(to: server, for: .seconds(3))

        // Three browsers at once: a screenshot and a DOM dump with the token, a DOM dump without.
        let base = "http://127.0.0.1:\(server.port)/dashboard?refresh=1"
        let screenshot = work.appendingPathComponent("dashboard.png").path
        async let shot = HeadlessChromium.run(["--screenshot=\(screenshot)", "\(base)&token=\(Self.token)"], profile: work.appendingPathComponent("p1").path)
        async let withToken = HeadlessChromium.run(["--dump-dom", "\(base)&token=\(Self.token)"], profile: work.appendingPathComponent("p2").path)
        async let withoutToken = HeadlessChromium.run(["--dump-dom", base], profile: work.appendingPathComponent("p3").path)
        let (shotRun, dom, anonymousDOM) = try await (shot, withToken, withoutToken)
        #expect(shotRun.status == 0, "\(shotRun.errors.suffix(2000))")
        if let keep = ProcessInfo.processInfo.environment["WHARF_DASHBOARD_SCREENSHOT"] {
            try? FileManager.default.removeItem(atPath: keep)
            try? FileManager.default.copyItem(atPath: screenshot, toPath: keep)
        }
        #expect(dom.status == 0, "\(dom.errors.suffix(2000))")

        // (a) What the page rendered against the APIs, read now (traffic has stopped).
        let status = try JSONDecoder().decode(APIStatus.self, from: try await server.get("/wharf/status").body)
        let window = try #require(status.windows.first)
        let rendered = try Self.pageData(dom.output)
        #expect(rendered.refreshes >= 3, "the page refreshed \(rendered.refreshes) times")
        #expect(rendered.status.ok)
        #expect(rendered.status.window == window)
        #expect(rendered.status.versions.count == status.models.count)
        #expect(status.models.count == 2)
        for version in status.models {
            let requests = version.windows[window]?.requests ?? 0
            #expect(requests > 0, "no traffic recorded for \(version.model) v\(version.version)")
            let row = try #require(rendered.status.versions.first { $0.model == version.model && $0.version == version.version })
            #expect(row.state == version.state)
            #expect(row.labels == version.labels)
            #expect(row.requests == requests)
            Self.expect(
                dom.output,
                contains: #"<tr class="version" data-model="\#(version.model)" data-version="\#(version.version)" data-state="\#(version.state)" data-labels="\#(version.labels.joined(separator: ","))" data-requests="\#(requests)">"#)
            for kind in ["rate", "latency", "errors"] {
                let chart = try #require(rendered.charts.first { $0.id == "\(version.model)/\(version.version)/\(kind)" })
                #expect(chart.points >= 2, "\(chart.id) has \(chart.points) points")
                #expect(chart.box?.count == 4)
            }
        }
        #expect(Set(status.models.flatMap(\.labels)) == ["production", "staging"])

        let detail = try await server.request("GET", "/registry/models/mlp", headers: ["Authorization": "Bearer \(Self.token)"])
        let model = try JSONCoding.decode(APIModelDetail.self, detail.text)
        #expect(rendered.registry.state == "ok", "\(rendered.registry.message ?? "")")
        let pageModel = try #require(rendered.registry.models.first { $0.name == "mlp" })
        #expect(Dictionary(uniqueKeysWithValues: pageModel.aliases.map { ($0.alias, $0.version) }) == ["production": 1, "staging": 2])
        #expect(pageModel.aliases.map(\.alias).sorted() == model.aliases.map(\.alias).sorted())
        for alias in model.aliases { #expect(pageModel.aliases.contains { $0.alias == alias.alias && $0.version == alias.version }) }
        #expect(pageModel.versions.sorted() == model.versions.map(\.version).sorted())
        #expect(pageModel.moves == 4)
        Self.expect(dom.output, contains: #"data-alias="production" data-version="1">production → v1<"#)

        #expect(rendered.alerts.ok)
        #expect(rendered.alerts.ruleError == nil)
        #expect(rendered.pipeline.state == "ok")
        Self.expect(dom.output, contains: #"data-pipeline-state="ok">the pipeline has recorded no run<"#)

        // Without the token the registry section asks for it, and the rest still renders.
        let anonymous = try Self.pageData(anonymousDOM.output)
        #expect(anonymous.registry.state == "unauthorized")
        Self.expect(anonymousDOM.output, contains: "enter the management API token")
        #expect(anonymous.status.versions.count == 2)
        #expect(anonymous.charts.count == 6)

        // (b) Each chart drew its lines: pixels in the series' colours inside its plot area.
        let dataFile = work.appendingPathComponent("data.json")
        try Data(try Self.pageJSON(dom.output).utf8).write(to: dataFile)
        let python = Fixtures.repositoryRoot.appendingPathComponent(".venv/bin/python").path
        let check = try await ChildProcess.run(
            FileManager.default.isExecutableFile(atPath: python) ? python : "/usr/bin/python3",
            [Fixtures.repositoryRoot.appendingPathComponent("python/checks/dashboard_pixels.py").path, screenshot, dataFile.path],
            timeout: .seconds(60))
        #expect(check.status == 0, "\(check.errors)")
        let pixels = try JSONDecoder().decode(PixelReport.self, from: Data(check.output.utf8))
        #expect(pixels.width >= 1400 && pixels.height >= 2000)
        #expect(pixels.charts.count == 6)
        for chart in pixels.charts {
            #expect(chart.area > 10_000, "\(chart.id): plot area \(chart.box)")
            #expect(chart.seriesFraction > 0.005, "\(chart.id): \(chart.seriesPixels) series pixels of \(chart.area)")
        }
        await server.stop()
    }

    /// Four clients sending V2 inference requests to both versions for `duration`.
    static func sendTraffic(to server: TestServer, for duration: Duration) async throws {
        let deadline = ContinuousClock.now + duration
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<4 {
                group.addTask {
                    let path = "/v2/models/mlp/versions/\(client % 2 + 1)/infer"
                    while ContinuousClock.now < deadline {
                        let answer = try await server.post(path, json: RegistryServingTests.inferBody)
                        #expect(answer.status == 200, "\(answer.text)")
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Expects the DOM dump to hold `text` (a failure names the text, not the whole dump).
    static func expect(_ dom: String, contains text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        if !dom.contains(text) { Issue.record("the DOM has no \(text)", sourceLocation: sourceLocation) }
    }

    /// The JSON the page wrote into `<script id="wharf-data">`.
    static func pageJSON(_ dom: String) throws -> String {
        let start = try #require(dom.range(of: #"<script id="wharf-data" type="application/json">"#), "no wharf-data in the DOM")
        let end = try #require(dom.range(of: "</script>", range: start.upperBound..<dom.endIndex))
        return String(dom[start.upperBound..<end.lowerBound])
    }

    static func pageData(_ dom: String) throws -> PageData {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(PageData.self, from: Data(try pageJSON(dom).utf8))
    }
}

/// What the page says it rendered.
struct PageData: Decodable {
    struct Status: Decodable {
        var ok: Bool
        var window: String?
        var versions: [Version]
    }
    struct Version: Decodable {
        var model: String
        var version: Int64
        var state: String
        var labels: [String]
        var requests: Int
    }
    struct Chart: Decodable {
        var id: String
        var kind: String
        var series: [String]
        var points: Int
        var box: [Double]?
    }
    struct Alerts: Decodable {
        var ok: Bool
        var ruleError: String?
    }
    struct Registry: Decodable {
        struct Model: Decodable {
            struct Alias: Decodable {
                var alias: String
                var version: Int64
            }
            var name: String
            var aliases: [Alias]
            var versions: [Int64]
            var moves: Int
        }
        var state: String
        var message: String?
        var models: [Model]
    }
    struct Pipeline: Decodable {
        var state: String
    }
    var refreshes: Int
    var status: Status
    var charts: [Chart]
    var alerts: Alerts
    var registry: Registry
    var pipeline: Pipeline
}

/// `GET /wharf/status`, the parts compared.
struct APIStatus: Decodable {
    struct Version: Decodable {
        struct Window: Decodable { var requests: Int }
        var model: String
        var version: Int64
        var state: String
        var labels: [String]
        var windows: [String: Window]
    }
    var windows: [String]
    var models: [Version]
}

/// `GET /registry/models/{m}`.
struct APIModelDetail: Decodable {
    var aliases: [AliasRecord]
    var versions: [VersionRecord]
}

/// python/checks/dashboard_pixels.py's answer.
struct PixelReport: Decodable {
    struct Chart: Decodable {
        var id: String
        var box: [Int]
        var area: Int
        var seriesPixels: Int
        var seriesFraction: Double

        enum CodingKeys: String, CodingKey {
            case id, box, area
            case seriesPixels = "series_pixels"
            case seriesFraction = "series_fraction"
        }
    }
    var width: Int
    var height: Int
    var charts: [Chart]
}

/// Headless Chromium, found on `PATH` (or `WHARF_CHROMIUM`).
enum HeadlessChromium {
    static let path: String? = {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["WHARF_CHROMIUM"], FileManager.default.isExecutableFile(atPath: explicit) { return explicit }
        let directories = (environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin"]
        for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
            for directory in directories where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
                return "\(directory)/\(name)"
            }
        }
        return nil
    }()

    /// Loads a page the way the issue's check does: 8 s of virtual time, a 1400×2000 window, a
    /// fresh profile (so no token is left in localStorage from another run).
    static func run(_ arguments: [String], profile: String) async throws -> ChildProcess.Result {
        try await ChildProcess.run(
            try #require(path),
            [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars", "--no-first-run",
                "--user-data-dir=\(profile)", "--virtual-time-budget=8000", "--window-size=1400,2000",
            ] + arguments,
            timeout: .seconds(60))
    }
}

/// A child process whose output goes to files (no pipe to drain, no thread blocked on it).
enum ChildProcess {
    struct Result: Sendable {
        var status: Int32
        var output: String
        var errors: String
    }

    static func run(_ executable: String, _ arguments: [String], timeout: Duration) async throws -> Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wharf-child-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outputFile = directory.appendingPathComponent("stdout"), errorFile = directory.appendingPathComponent("stderr")
        try Data().write(to: outputFile)
        try Data().write(to: errorFile)
        let output = try FileHandle(forWritingTo: outputFile), errors = try FileHandle(forWritingTo: errorFile)
        defer {
            try? output.close()
            try? errors.close()
        }
        let process = Process()
        let watchdog = Watchdog(process: process, timeout: timeout)
        defer { watchdog.task.cancel() }
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = errors
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        return Result(
            status: status, output: String(decoding: try Data(contentsOf: outputFile), as: UTF8.self),
            errors: String(decoding: try Data(contentsOf: errorFile), as: UTF8.self))
    }

    /// Terminates the process if it is still running after `timeout`.
    private final class Watchdog: @unchecked Sendable {
        let process: Process
        var task: Task<Void, Never> = Task {}

        init(process: Process, timeout: Duration) {
            self.process = process
            task = Task { [self] in
                guard (try? await Task.sleep(for: timeout)) != nil, self.process.isRunning else { return }
                self.process.terminate()
            }
        }
    }
}
