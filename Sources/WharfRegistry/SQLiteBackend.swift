import Foundation
import GRDB

/// The registry's default database: one SQLite file in WAL mode through GRDB. Several processes
/// may use the same file: write transactions are `BEGIN IMMEDIATE` and wait up to `busyTimeout`
/// for each other.
public final class SQLiteBackend: SQLBackend {
    private let pool: DatabasePool
    public let path: String

    public init(path: String, busyTimeout: Double = 30) throws(RegistryError) {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.foreignKeysEnabled = true
        configuration.label = "wharf.registry"
        do {
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            pool = try DatabasePool(path: path, configuration: configuration)
            try pool.write { db in
                for statement in RegistrySchema.statements(autoID: "INTEGER PRIMARY KEY AUTOINCREMENT", real: "REAL") {
                    try db.execute(sql: statement)
                }
            }
        } catch {
            throw RegistryError(.storage, "cannot open the registry database \(path): \(error)", cause: error)
        }
    }

    public var schema: [String] { RegistrySchema.statements(autoID: "INTEGER PRIMARY KEY AUTOINCREMENT", real: "REAL") }

    public var location: String { "sqlite:" + path }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLTransaction) throws -> T) async throws -> T {
        try await pool.writeWithoutTransaction { db in
            var result: T?
            try db.inTransaction(.immediate) {
                result = try body(GRDBTransaction(db: db))
                return .commit
            }
            return result!
        }
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLTransaction) throws -> T) async throws -> T {
        try await pool.read { db in try body(GRDBTransaction(db: db)) }
    }

    public func close() async {
        try? pool.close()
    }
}

/// Statements on the GRDB connection of the transaction under way.
private struct GRDBTransaction: SQLTransaction {
    let db: Database

    func execute(_ sql: String, _ binds: [SQLValue]) throws {
        try db.execute(sql: sql, arguments: StatementArguments(binds.map(\.databaseValue)))
    }

    func query(_ sql: String, _ binds: [SQLValue]) throws -> [SQLRow] {
        try Row.fetchAll(db, sql: sql, arguments: StatementArguments(binds.map(\.databaseValue))).map { row in
            var result: SQLRow = [:]
            for (column, value) in row {
                switch value.storage {
                case .null: result[column] = .null
                case .int64(let number): result[column] = .int(number)
                case .double(let number): result[column] = .double(number)
                case .string(let text): result[column] = .text(text)
                case .blob(let data): result[column] = .text(String(decoding: data, as: UTF8.self))
                }
            }
            return result
        }
    }
}

extension SQLValue {
    fileprivate var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case .int(let value): value.databaseValue
        case .double(let value): value.databaseValue
        case .text(let value): value.databaseValue
        }
    }
}
