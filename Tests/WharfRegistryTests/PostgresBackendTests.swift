import Foundation
import Testing
@testable import WharfRegistry

/// The PostgreSQL server the tests run against: `WHARF_TEST_POSTGRES_URL`, as printed by
/// `scripts/postgres-test-server`. Each test gets a database of its own.
enum PostgresTestServer {
    static let url = ProcessInfo.processInfo.environment["WHARF_TEST_POSTGRES_URL"]

    /// A new, empty database on the test server; returns its URL.
    static func freshDatabase() async throws -> String {
        let suffix = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        return try await PostgresBackend.createDatabase(serverURL: url!, name: "wharf_test_\(suffix)")
    }
}

/// What needs no server: SQL rewriting, URLs, and a server that is not there.
struct PostgresBackendUnitTests {
    @Test(arguments: [
        ("SELECT 1", "SELECT 1"),
        ("SELECT * FROM versions WHERE model = ? AND version = ?", "SELECT * FROM versions WHERE model = $1 AND version = $2"),
        ("INSERT INTO t (a, b) VALUES (?, 'what?')", "INSERT INTO t (a, b) VALUES ($1, 'what?')"),
        ("SELECT 'it''s ?', ? FROM t", "SELECT 'it''s ?', $1 FROM t"),
        ("SELECT \"odd?name\" FROM t WHERE a = ?", "SELECT \"odd?name\" FROM t WHERE a = $1"),
        ("SELECT ? -- really?\n, ?", "SELECT $1 -- really?\n, $2"),
        ("SELECT /* why? */ ? / ?, ? - ?", "SELECT /* why? */ $1 / $2, $3 - $4"),
        ("UPDATE t SET a = ?, b = ?, c = ?, d = ?, e = ?, f = ?, g = ?, h = ?, i = ?, j = ?",
         "UPDATE t SET a = $1, b = $2, c = $3, d = $4, e = $5, f = $6, g = $7, h = $8, i = $9, j = $10"),
    ])
    func numbersPlaceholders(sql: String, expected: String) {
        #expect(PostgresBackend.numberPlaceholders(sql) == expected)
    }

    @Test func parsesURLs() throws {
        let full = try PostgresURL("postgresql://wharf:s%40cret@db.internal:6543/registry?sslmode=require")
        #expect(full.user == "wharf")
        #expect(full.password == "s@cret")
        #expect(full.host == "db.internal")
        #expect(full.port == 6543)
        #expect(full.database == "registry")
        #expect(full.tls == .require)
        #expect(full.masked == "postgresql://wharf:***@db.internal:6543/registry?sslmode=require")
        #expect(full.replacingDatabase(with: "other") == "postgresql://wharf:s%40cret@db.internal:6543/other?sslmode=require")

        let short = try PostgresURL("postgres://postgres@127.0.0.1/postgres")
        #expect(short.port == 5432)
        #expect(short.password == nil)
        #expect(short.tls == .prefer)
        #expect(short.masked == "postgres://postgres@127.0.0.1:5432/postgres")
    }

    @Test(arguments: [
        ("mysql://u@h/db", "the scheme must be postgres or postgresql"),
        ("postgres://h:5432/db", "no user"),
        ("postgres://u@h:5432", "no database name"),
        ("postgres://u@h/db?sslmode=sometimes", "unknown sslmode 'sometimes'"),
        ("postgres://u@h/db?timeout=3", "unsupported parameter 'timeout'"),
        ("registry.sqlite", "the scheme must be postgres or postgresql"),
    ])
    func refusesBadURLs(url: String, problem: String) async {
        do {
            _ = try await PostgresBackend(url: url)
            Issue.record("\(url) was accepted")
        } catch let error as RegistryError {
            #expect(error.kind == .invalidArgument)
            #expect(error.message.contains(problem), "\(error.message)")
            #expect(error.message.contains("expected postgres://user[:password]@host[:port]/database"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func badURLMessagesHideThePassword() async {
        await #expect {
            _ = try await PostgresBackend(url: "postgres://u:hunter2@h/db?sslmode=bogus")
        } throws: { error in
            let message = (error as? RegistryError)?.message ?? ""
            return !message.contains("hunter2") && message.contains("u:***@h")
        }
    }

    @Test func unreachableServerNamesHostAndPort() async {
        // Port 1 (tcpmux) is closed on any machine that runs these tests: refused at once.
        let start = Date()
        do {
            _ = try await PostgresBackend(url: "postgres://wharf:secret@127.0.0.1:1/registry?sslmode=disable")
            Issue.record("connected to port 1")
        } catch let error as RegistryError {
            #expect(error.kind == .storage)
            #expect(error.message.contains("cannot connect to PostgreSQL at 127.0.0.1:1"), "\(error.message)")
            #expect(error.message.lowercased().contains("refused"), "\(error.message)")
            #expect(!error.message.contains("secret"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
        #expect(Date().timeIntervalSince(start) < 5)
    }

    @Test func refusesBadDatabaseNames() async {
        for name in ["", "Upper", "semi;colon", "quote\"", String(repeating: "a", count: 64)] {
            await #expect {
                _ = try await PostgresBackend.createDatabase(serverURL: "postgres://u@127.0.0.1:1/postgres", name: name)
            } throws: { error in
                (error as? RegistryError)?.kind == .invalidArgument
            }
        }
    }
}

/// Against a real server: `URL=$(scripts/postgres-test-server)` then
/// `WHARF_TEST_POSTGRES_URL=$URL swift test --filter WharfRegistryTests`.
@Suite(.enabled(if: PostgresTestServer.url != nil, "needs WHARF_TEST_POSTGRES_URL (scripts/postgres-test-server)"))
struct PostgresBackendServerTests {
    private static let lineage = Lineage()
    private static let owner = PushOwner(host: "test-host", pid: 42)

    private func reserve(_ store: RegistryStore, _ model: String) async throws -> Int64 {
        try await store.reserveVersion(
            model: model, author: "alice", description: "", tags: [], lineage: Self.lineage, owner: Self.owner)
    }

    @Test func roundTripsValuesAndTypes() async throws {
        let backend = try await PostgresBackend(url: try await PostgresTestServer.freshDatabase())
        let rows = try await backend.read { tx in
            try tx.query(
                """
                SELECT ?::bigint AS big, ?::double precision AS real, ?::text AS text, ?::text AS missing,
                    2::int2 AS small, 3::int4 AS medium, 1.25::numeric AS decimal, 0.5::real AS single,
                    'x'::varchar AS varying, true AS yes, 'it''s ?' AS literal
                """,
                [.int(.max), .double(-1.5e300), .text("héllo ? 'quoted'"), .null])
        }
        #expect(rows.count == 1)
        let row = try #require(rows.first)
        #expect(row["big"] == .int(.max))
        #expect(row["real"] == .double(-1.5e300))
        #expect(row["text"] == .text("héllo ? 'quoted'"))
        #expect(row["missing"] == .null)
        #expect(row["small"] == .int(2))
        #expect(row["medium"] == .int(3))
        #expect(row["decimal"] == .double(1.25))
        #expect(row["single"] == .double(0.5))
        #expect(row["varying"] == .text("x"))
        #expect(row["yes"] == .int(1))
        #expect(row["literal"] == .text("it's ?"))
        #expect(backend.location.hasPrefix("postgres://"))
        await backend.close()
        await backend.close()  // a second close does nothing
    }

    @Test func storeVersionsAliasesAndEvents() async throws {
        let url = try await PostgresTestServer.freshDatabase()
        let store = RegistryStore(backend: try await PostgresBackend(url: url))
        let first = try await reserve(store, "mlp")
        let second = try await reserve(store, "mlp")
        #expect((first, second) == (1, 2))
        #expect(try await store.pendingVersions().map { $0.owner } == [Self.owner, Self.owner])

        let facts = ArtifactFacts(formats: ["saved_model"], signatures: [])
        let one = try await store.completeVersion(
            model: "mlp", version: 1, contentHash: String(repeating: "a", count: 64), sizeBytes: 123, facts: facts,
            metrics: ["accuracy": 0.9])
        #expect(one.status == .ready)
        #expect(one.sizeBytes == 123)
        #expect(one.metrics == ["accuracy": 0.9])
        _ = try await store.completeVersion(
            model: "mlp", version: 2, contentHash: String(repeating: "b", count: 64), sizeBytes: 456, facts: facts, metrics: [:])
        await #expect(throws: RegistryError.self) {
            _ = try await store.completeVersion(
                model: "mlp", version: 2, contentHash: "c", sizeBytes: 1, facts: facts, metrics: [:])
        }

        let set = try await store.moveAlias(model: "mlp", alias: "prod", to: 1, actor: "bob", reason: "first release")
        #expect(set.fromVersion == nil && set.toVersion == 1)
        let moved = try await store.moveAlias(
            model: "mlp", alias: "prod", to: 2, actor: "bob", reason: "better", expectedFrom: .some(1))
        #expect(moved.fromVersion == 1 && moved.toVersion == 2)
        #expect(moved.id > set.id)
        do {
            _ = try await store.moveAlias(model: "mlp", alias: "prod", to: 1, actor: "eve", reason: "stale", expectedFrom: .some(1))
            Issue.record("a stale expectedFrom was accepted")
        } catch let error as RegistryError {
            #expect(error.kind == .conflict)
        }
        #expect(try await store.aliases(of: "mlp").map { "\($0.alias)=\($0.version) by \($0.updatedBy)" } == ["prod=2 by bob"])

        do {
            _ = try await store.deleteVersion(model: "mlp", version: 2, actor: "bob", reason: "cleanup")
            Issue.record("deleted an aliased version")
        } catch let error as RegistryError {
            #expect(error.kind == .versionInUse)
            #expect(error.message.contains("'prod'"))
        }
        #expect(try await store.version(model: "mlp", version: 2)?.status == .ready)
        _ = try await store.deleteVersion(model: "mlp", version: 1, actor: "bob", reason: "old")
        #expect(try await store.versions(of: "mlp").map(\.version) == [2])
        #expect(try await store.referencedHashes() == [String(repeating: "b", count: 64)])
        #expect(try await store.model("mlp")?.lastVersion == 2)

        let events = try await store.events(model: "mlp")
        #expect(events.map(\.action) == [.versionRegistered, .versionRegistered, .aliasSet, .aliasSet, .versionDeleted])
        #expect(events.map(\.id) == events.map(\.id).sorted())
        #expect(try await store.events(model: "mlp", alias: "prod").map(\.actor) == ["bob", "bob"])
        await store.close()
    }

    @Test func concurrentPushesFromTwoBackendsGetDistinctVersions() async throws {
        let url = try await PostgresTestServer.freshDatabase()
        let stores = [
            RegistryStore(backend: try await PostgresBackend(url: url)),
            RegistryStore(backend: try await PostgresBackend(url: url)),
        ]
        let numbers = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for store in stores {
                group.addTask {
                    var mine: [Int64] = []
                    for _ in 0..<10 { mine.append(try await reserve(store, "cnn")) }
                    return mine
                }
            }
            var all: [Int64] = []
            for try await some in group { all += some }
            return all
        }
        #expect(numbers.sorted() == Array(1...20))
        #expect(try await stores[0].model("cnn")?.lastVersion == 20)
        #expect(try await stores[1].versions(of: "cnn").count == 20)
        for store in stores { await store.close() }
    }

    @Test func manyConcurrentTransactionsOnOneBackend() async throws {
        // More tasks than connections: leases wait for each other rather than fail.
        let store = RegistryStore(backend: try await PostgresBackend(url: try await PostgresTestServer.freshDatabase()))
        let numbers = try await withThrowingTaskGroup(of: Int64?.self) { group in
            for _ in 0..<40 { group.addTask { try await reserve(store, "busy") } }
            for _ in 0..<20 {
                group.addTask {
                    _ = try await store.models()
                    return nil
                }
            }
            var all: [Int64] = []
            for try await number in group { if let number { all.append(number) } }
            return all
        }
        #expect(numbers.sorted() == Array(1...40))
        await store.close()
    }

    @Test func aThrowingBodyRollsBackAndItsErrorPassesThrough() async throws {
        let backend = try await PostgresBackend(url: try await PostgresTestServer.freshDatabase())
        let refusal = RegistryError(.conflict, "refused on purpose")
        do {
            try await backend.write { tx in
                try tx.execute("INSERT INTO models (name, created_at) VALUES (?, ?)", [.text("ghost"), .double(1)])
                throw refusal
            }
            Issue.record("the body's error was lost")
        } catch let error as RegistryError {
            #expect(error.kind == .conflict)
            #expect(error.message == "refused on purpose")
            #expect(error.cause == nil)
        }

        struct Custom: Error, Equatable { var code: Int }
        await #expect(throws: Custom(code: 7)) {
            try await backend.write { tx in
                try tx.execute("INSERT INTO models (name, created_at) VALUES (?, ?)", [.text("ghost"), .double(1)])
                throw Custom(code: 7)
            }
        }

        // A failing statement rolls back the statements before it.
        do {
            try await backend.write { tx in
                try tx.execute("INSERT INTO models (name, created_at) VALUES (?, ?)", [.text("ghost"), .double(1)])
                try tx.execute("INSERT INTO nowhere VALUES (?)", [.int(1)])
            }
            Issue.record("a statement on a missing table succeeded")
        } catch let error as RegistryError {
            #expect(error.kind == .storage)
            #expect(error.message.contains("\"nowhere\" does not exist"), "\(error.message)")
            #expect(error.message.contains("42P01"), "\(error.message)")
        }

        #expect(try await backend.read { tx in try tx.query("SELECT name FROM models", []) }.isEmpty)
        // The connections are still good after the rollbacks.
        try await backend.write { tx in
            try tx.execute("INSERT INTO models (name, created_at) VALUES (?, ?)", [.text("real"), .double(1)])
        }
        #expect(try await backend.read { tx in try tx.query("SELECT name FROM models", []) } == [["name": .text("real")]])
        await backend.close()
    }

    @Test func readsAreReadOnly() async throws {
        let backend = try await PostgresBackend(url: try await PostgresTestServer.freshDatabase())
        await #expect(throws: RegistryError.self) {
            try await backend.read { tx in
                try tx.execute("INSERT INTO models (name, created_at) VALUES (?, ?)", [.text("sneaky"), .double(1)])
            }
        }
        await backend.close()
    }

    @Test func twoBackendsInitialisingOneDatabaseAtOnce() async throws {
        let url = try await PostgresTestServer.freshDatabase()
        async let first = PostgresBackend(url: url)
        async let second = PostgresBackend(url: url)
        let backends = try await [first, second]
        for backend in backends { await backend.close() }
    }

    @Test func missingDatabaseTLSAndDuplicateDatabase() async throws {
        let server = try PostgresURL(PostgresTestServer.url!)
        do {
            _ = try await PostgresBackend(url: server.replacingDatabase(with: "wharf_no_such_database"))
            Issue.record("connected to a missing database")
        } catch let error as RegistryError {
            #expect(error.kind == .storage)
            #expect(error.message.contains("at \(server.endpoint)"), "\(error.message)")
            #expect(error.message.contains("does not exist"), "\(error.message)")
        }

        // The test server has TLS off.
        var plain = server
        plain.query = "sslmode=require"
        do {
            _ = try await PostgresBackend(url: plain.replacingDatabase(with: server.database))
            Issue.record("sslmode=require connected without TLS")
        } catch let error as RegistryError {
            #expect(error.kind == .storage)
            #expect(error.message.contains("does not support TLS"), "\(error.message)")
        }

        let url = try await PostgresTestServer.freshDatabase()
        let name = try PostgresURL(url).database
        do {
            _ = try await PostgresBackend.createDatabase(serverURL: PostgresTestServer.url!, name: name)
            Issue.record("created a database twice")
        } catch let error as RegistryError {
            #expect(error.kind == .storage)
            #expect(error.message.contains("already exists"), "\(error.message)")
        }
    }
}
