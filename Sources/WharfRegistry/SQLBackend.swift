import Foundation

/// A value bound into, or read out of, a SQL statement: the four types the registry stores.
public enum SQLValue: Sendable, Equatable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)

    public var int: Int64? {
        switch self {
        case .int(let value): value
        case .double(let value): Int64(exactly: value)
        case .text(let value): Int64(value)
        case .null: nil
        }
    }

    public var double: Double? {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        case .text(let value): Double(value)
        case .null: nil
        }
    }

    public var text: String? {
        switch self {
        case .text(let value): value
        case .int(let value): String(value)
        case .double(let value): String(value)
        case .null: nil
        }
    }
}

/// One result row, by column name.
public typealias SQLRow = [String: SQLValue]

/// What a statement runs in: one transaction of one database. SQL is written with `?`
/// placeholders; backends that number them (`$1`) rewrite it. Calls block: transactions run on
/// threads of their own (GRDB's writer queue, or a thread pool for PostgreSQL), never on an
/// event loop or Swift's cooperative pool.
public protocol SQLTransaction {
    /// Runs a statement that returns no rows.
    func execute(_ sql: String, _ binds: [SQLValue]) throws
    /// Runs a query and returns its rows.
    func query(_ sql: String, _ binds: [SQLValue]) throws -> [SQLRow]
}

/// A database the SQL registry store runs on: SQLite through GRDB, or PostgreSQL through
/// postgres-nio. The store's statements are the same for both; only the schema's column types
/// differ (`schema`).
public protocol SQLBackend: Sendable {
    /// Statements that create the schema when it is missing (idempotent).
    var schema: [String] { get }
    /// Runs `body` in one serializable write transaction; rolls back when it throws. Concurrent
    /// writers (threads or processes) wait for each other.
    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLTransaction) throws -> T) async throws -> T
    /// Runs read-only queries on a consistent snapshot.
    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLTransaction) throws -> T) async throws -> T
    /// Releases connections.
    func close() async
    /// Where the data lives, for people (`sqlite:/home/me/.wharf/registry.sqlite`).
    var location: String { get }
}

/// The schema, written once for both databases: `%AUTOID%` is the auto-numbered key and `%REAL%`
/// the floating point type of the dialect.
enum RegistrySchema {
    static func statements(autoID: String, real: String) -> [String] {
        [
            """
            CREATE TABLE IF NOT EXISTS models (
                name TEXT PRIMARY KEY,
                description TEXT NOT NULL DEFAULT '',
                created_at %REAL% NOT NULL,
                last_version BIGINT NOT NULL DEFAULT 0,
                retention TEXT NOT NULL DEFAULT '{}'
            )
            """,
            """
            CREATE TABLE IF NOT EXISTS versions (
                model TEXT NOT NULL REFERENCES models(name),
                version BIGINT NOT NULL,
                status TEXT NOT NULL,
                content_hash TEXT,
                size_bytes BIGINT NOT NULL DEFAULT 0,
                formats TEXT NOT NULL DEFAULT '[]',
                signatures TEXT NOT NULL DEFAULT '[]',
                created_at %REAL% NOT NULL,
                author TEXT NOT NULL,
                description TEXT NOT NULL DEFAULT '',
                tags TEXT NOT NULL DEFAULT '[]',
                metrics TEXT NOT NULL DEFAULT '{}',
                lineage TEXT NOT NULL DEFAULT '{}',
                failure TEXT,
                owner_host TEXT,
                owner_pid BIGINT,
                PRIMARY KEY (model, version)
            )
            """,
            """
            CREATE TABLE IF NOT EXISTS aliases (
                model TEXT NOT NULL,
                alias TEXT NOT NULL,
                version BIGINT NOT NULL,
                updated_at %REAL% NOT NULL,
                updated_by TEXT NOT NULL,
                PRIMARY KEY (model, alias),
                FOREIGN KEY (model, version) REFERENCES versions(model, version)
            )
            """,
            """
            CREATE TABLE IF NOT EXISTS events (
                id %AUTOID%,
                model TEXT NOT NULL,
                action TEXT NOT NULL,
                alias TEXT,
                from_version BIGINT,
                to_version BIGINT,
                actor TEXT NOT NULL,
                reason TEXT NOT NULL,
                at %REAL% NOT NULL
            )
            """,
            "CREATE INDEX IF NOT EXISTS events_by_model ON events (model, id)",
            """
            CREATE TABLE IF NOT EXISTS alert_events (
                id %AUTOID%,
                kind TEXT NOT NULL,
                rule TEXT NOT NULL,
                model TEXT,
                version BIGINT,
                at %REAL% NOT NULL,
                payload TEXT NOT NULL
            )
            """,
            "CREATE INDEX IF NOT EXISTS alert_events_by_model ON alert_events (model, id)",
            """
            CREATE TABLE IF NOT EXISTS traffic_splits (
                model TEXT PRIMARY KEY,
                alias TEXT NOT NULL,
                weight %REAL% NOT NULL,
                sticky_header TEXT,
                updated_at %REAL% NOT NULL,
                updated_by TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE IF NOT EXISTS pipeline_runs (
                id TEXT PRIMARY KEY,
                model TEXT NOT NULL,
                status TEXT NOT NULL,
                created_at %REAL% NOT NULL,
                updated_at %REAL% NOT NULL,
                owner_host TEXT,
                owner_pid BIGINT,
                payload TEXT NOT NULL
            )
            """,
            "CREATE INDEX IF NOT EXISTS pipeline_runs_by_model ON pipeline_runs (model, created_at)",
        ].map { $0.replacingOccurrences(of: "%AUTOID%", with: autoID).replacingOccurrences(of: "%REAL%", with: real) }
    }
}
