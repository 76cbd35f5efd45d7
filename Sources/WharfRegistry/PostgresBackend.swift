import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// The registry on a PostgreSQL server, through postgres-nio: for several hosts sharing one
/// registry. Transactions run on threads of their own (an `NIOThreadPool`), one connection each;
/// their statements block those threads while the connections' event loop does the I/O.
///
/// Write transactions are `BEGIN` (READ COMMITTED) followed by a transaction-level advisory lock
/// that every Wharf writer takes, so writers, in this process or any other, run one at a time and
/// each sees what the previous one committed: the same guarantee as SQLite's `BEGIN IMMEDIATE`.
/// Reads run on a REPEATABLE READ, READ ONLY snapshot and wait for no one.
public final class PostgresBackend: SQLBackend {
    /// The URL with its password masked (`postgres://wharf:***@db.internal:5432/registry`).
    public let location: String

    private let eventLoopGroup: MultiThreadedEventLoopGroup
    private let threadPool: NIOThreadPool
    private let connections: PostgresConnectionPool
    private let busyTimeout: Double
    private let logger: Logger
    private let closed = Mutex(false)

    /// The most connections (and transactions under way) one backend holds.
    static let maximumConnections = 8

    /// The advisory lock every write transaction takes (two 32-bit keys: "Whar", "f-wr").
    static let writeLock = (0x5768_6172, 0x662D_7772)

    /// Connects to the database at `url` and creates the registry's tables when they are missing.
    ///
    /// - Parameters:
    ///   - url: `postgres://user[:password]@host[:port]/database` (or `postgresql://`), with an
    ///     optional `?sslmode=disable|allow|prefer|require|verify-ca|verify-full` (default `prefer`,
    ///     as libpq) and `connect_timeout=SECONDS` (default 10). User and password may be
    ///     percent-encoded.
    ///   - busyTimeout: How long, in seconds, a write waits for the writers ahead of it before
    ///     failing.
    /// - Throws: `RegistryError(.invalidArgument)` for a URL that is not of that form;
    ///   `RegistryError(.storage)` when the server cannot be reached, refuses the login, or the
    ///   schema cannot be created.
    public init(url: String, busyTimeout: Double = 30) async throws {
        let target = try PostgresURL(url)
        location = target.masked
        self.busyTimeout = busyTimeout
        var logger = Logger(label: "wharf.registry.postgres")
        logger.logLevel = .warning
        self.logger = logger
        eventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        threadPool = NIOThreadPool(numberOfThreads: Self.maximumConnections)
        threadPool.start()
        connections = PostgresConnectionPool(
            target: target, eventLoopGroup: eventLoopGroup, maximum: Self.maximumConnections, logger: logger)
        do {
            let schema = self.schema
            try await write { tx in
                for statement in schema { try tx.execute(statement, []) }
            }
        } catch {
            await close()
            throw error
        }
    }

    public var schema: [String] { RegistrySchema.statements(autoID: "BIGSERIAL PRIMARY KEY", real: "DOUBLE PRECISION") }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLTransaction) throws -> T) async throws -> T {
        let lockTimeout = max(1, Int((busyTimeout * 1000).rounded()))
        return try await transaction(
            begin: [
                "BEGIN ISOLATION LEVEL READ COMMITTED",
                "SET LOCAL lock_timeout = \(lockTimeout)",
                "SELECT pg_advisory_xact_lock(\(Self.writeLock.0), \(Self.writeLock.1))",
            ],
            body)
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLTransaction) throws -> T) async throws -> T {
        try await transaction(begin: ["BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"], body)
    }

    /// Closes the connections (waiting for transactions under way), then the threads. Later
    /// calls do nothing.
    public func close() async {
        let first = closed.withLock { closed in
            defer { closed = true }
            return !closed
        }
        guard first else { return }
        await connections.close()
        try? await threadPool.shutdownGracefully()
        try? await eventLoopGroup.shutdownGracefully()
    }

    /// Creates the database `name` on the server at `serverURL` (any database of it the user may
    /// log in to) and returns the URL of the new database: the same URL with its path replaced.
    /// For tests, which want an empty database each.
    ///
    /// - Parameter name: Lowercase ASCII letters, digits and `_`, at most 63 characters.
    /// - Throws: `RegistryError(.invalidArgument)` for a bad URL or name, `RegistryError(.storage)`
    ///   when the server cannot be reached or refuses (the database exists already, say).
    public static func createDatabase(serverURL: String, name: String) async throws -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789_")
        guard !name.isEmpty, name.count <= 63, name.allSatisfy(allowed.contains) else {
            throw RegistryError(
                .invalidArgument,
                "database name '\(name)' must be 1 to 63 lowercase ASCII letters, digits or '_'")
        }
        let target = try PostgresURL(serverURL)
        var logger = Logger(label: "wharf.registry.postgres")
        logger.logLevel = .warning
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let pool = PostgresConnectionPool(target: target, eventLoopGroup: group, maximum: 1, logger: logger)
        do {
            let connection = try await pool.lease()
            do {
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \"\(name)\""), logger: logger)
            } catch {
                await pool.release(connection, reusable: false)
                throw RegistryError(
                    .storage, "cannot create database '\(name)' on \(target.endpoint): \(describe(error))", cause: error)
            }
            await pool.release(connection, reusable: true)
        } catch {
            await pool.close()
            try? await group.shutdownGracefully()
            throw error
        }
        await pool.close()
        try? await group.shutdownGracefully()
        return target.replacingDatabase(with: name)
    }

    // MARK: Transactions

    /// Leases a connection, runs `begin`, `body` and COMMIT (ROLLBACK when anything throws) on a
    /// thread of the pool, and hands the connection back: to be reused when the transaction
    /// ended cleanly, closed otherwise.
    private func transaction<T: Sendable>(
        begin: [String], _ body: @escaping @Sendable (any SQLTransaction) throws -> T
    ) async throws -> T {
        let connection = try await connections.lease()
        let logger = self.logger
        let outcome: (result: Result<T, any Error>, clean: Bool)
        do {
            outcome = try await threadPool.runIfActive {
                Self.runTransaction(PostgresTransaction(connection: connection, logger: logger), begin: begin, body)
            }
        } catch {
            // The body never ran (the task was cancelled, or the pool is shut down).
            await connections.release(connection, reusable: true)
            throw error
        }
        await connections.release(connection, reusable: outcome.clean)
        return try outcome.result.get()
    }

    /// Runs on a thread of the pool, blocking it: never on an event loop.
    private static func runTransaction<T>(
        _ tx: PostgresTransaction, begin: [String], _ body: (any SQLTransaction) throws -> T
    ) -> (result: Result<T, any Error>, clean: Bool) {
        func rollback() -> Bool { (try? tx.execute("ROLLBACK", [])) != nil }
        do {
            for statement in begin { try tx.execute(statement, []) }
        } catch {
            return (.failure(error), rollback())
        }
        let value: T
        do {
            value = try body(tx)
        } catch {
            // The body's own error, unchanged.
            return (.failure(error), rollback())
        }
        do {
            try tx.execute("COMMIT", [])
            return (.success(value), true)
        } catch {
            return (.failure(error), rollback())
        }
    }

    // MARK: SQL

    /// `sql` with its `?` placeholders numbered `$1`, `$2`, ... as PostgreSQL wants them. A `?` in
    /// a string literal (`'...'`), a quoted identifier (`"..."`) or a comment stays as it is.
    static func numberPlaceholders(_ sql: String) -> String {
        enum Context { case code, literal, identifier, lineComment, blockComment }
        var context = Context.code
        var result = ""
        result.reserveCapacity(sql.utf8.count + 8)
        var count = 0
        var characters = sql.makeIterator()
        var pending: Character? = nil
        while let character = pending ?? characters.next() {
            pending = nil
            switch context {
            case .code:
                switch character {
                case "?":
                    count += 1
                    result += "$\(count)"
                    continue
                case "'": context = .literal
                case "\"": context = .identifier
                case "-", "/":
                    // A comment starts with `--` or `/*`; anything else is an operator.
                    let next = characters.next()
                    result.append(character)
                    if character == "-", next == "-" {
                        context = .lineComment
                        result.append("-")
                    } else if character == "/", next == "*" {
                        context = .blockComment
                        result.append("*")
                    } else {
                        pending = next
                    }
                    continue
                default: break
                }
            case .literal:
                // A doubled quote ('') leaves the literal and enters it again: no special case.
                if character == "'" { context = .code }
            case .identifier:
                if character == "\"" { context = .code }
            case .lineComment:
                if character == "\n" || character == "\r\n" { context = .code }
            case .blockComment:
                if character == "*" {
                    let next = characters.next()
                    result.append(character)
                    if next == "/" {
                        context = .code
                        result.append("/")
                    } else {
                        pending = next
                    }
                    continue
                }
            }
            result.append(character)
        }
        return result
    }

    /// What went wrong, in words: the server's message and SQLSTATE, or the network's error.
    /// (`PSQLError`'s own description hides them.)
    static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return String(describing: error) }
        if let info = error.serverInfo, let message = info[.message] {
            var text = message
            if let detail = info[.detail] { text += " (\(detail))" }
            if let hint = info[.hint] { text += "; hint: \(hint)" }
            if let state = info[.sqlState] { text += " [SQLSTATE \(state)]" }
            return text
        }
        if let underlying = error.underlying { return describeNetwork(underlying) }
        switch error.code {
        case .serverClosedConnection: return "the server closed the connection"
        case .sslUnsupported: return "the server does not support TLS, which the URL's sslmode requires"
        case .authMechanismRequiresPassword: return "the server asks for a password and the URL has none"
        case .unsupportedAuthMechanism: return "the server asks for an authentication method postgres-nio does not support"
        default: return error.code.description
        }
    }

    /// A connection failure, short: "Connection refused", not NIO's nested descriptions.
    private static func describeNetwork(_ error: any Error) -> String {
        switch error {
        case let error as IOError:
            return String(cString: strerror(error.errnoCode))
        case let error as NIOConnectionError:
            var reasons: [String] = []
            for failure in error.connectionErrors {
                let reason = describeNetwork(failure.error)
                if !reasons.contains(reason) { reasons.append(reason) }
            }
            if reasons.isEmpty, let lookup = error.dnsAError ?? error.dnsAAAAError {
                return "cannot resolve host '\(error.host)': \(lookup)"
            }
            return reasons.isEmpty ? String(describing: error) : reasons.joined(separator: "; ")
        case ChannelError.connectTimeout(let timeout):
            return "no answer within \(timeout.nanoseconds / 1_000_000_000) s"
        default:
            return String(describing: error)
        }
    }

    /// The SQLSTATE of a server error, if `error` is one.
    static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }
}

/// Statements on the connection of the transaction under way, each blocking its thread until the
/// server has answered.
private struct PostgresTransaction: SQLTransaction {
    let connection: PostgresConnection
    let logger: Logger

    func execute(_ sql: String, _ binds: [SQLValue]) throws {
        _ = try run(sql, binds)
    }

    func query(_ sql: String, _ binds: [SQLValue]) throws -> [SQLRow] {
        try run(sql, binds).rows.map { row in
            var result: SQLRow = [:]
            for cell in row {
                result[cell.columnName] = try Self.value(of: cell, sql: sql)
            }
            return result
        }
    }

    private func run(_ sql: String, _ binds: [SQLValue]) throws -> PostgresQueryResult {
        var bindings = PostgresBindings(capacity: binds.count)
        for value in binds {
            switch value {
            case .null: bindings.appendNull()
            case .int(let number): bindings.append(number)
            case .double(let number): bindings.append(number)
            case .text(let text): bindings.append(text)
            }
        }
        let query = PostgresQuery(unsafeSQL: PostgresBackend.numberPlaceholders(sql), binds: bindings)
        do {
            // A thread of the backend's pool, not the connection's event loop: waiting is safe.
            return try connection.query(query, logger: logger).wait()
        } catch {
            let statement = sql.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .joined(separator: " ")
            if PostgresBackend.sqlState(error) == "55P03" {
                throw RegistryError(
                    .storage, "PostgreSQL: timed out waiting for another registry writer (\(PostgresBackend.describe(error)))",
                    cause: error)
            }
            throw RegistryError(
                .storage, "PostgreSQL: \(PostgresBackend.describe(error)), in: \(statement.prefix(200))", cause: error)
        }
    }

    /// A result cell as a registry value, by the column's type.
    private static func value(of cell: PostgresCell, sql: String) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        do {
            switch cell.dataType {
            case .int8: return .int(try cell.decode(Int64.self))
            case .int4: return .int(Int64(try cell.decode(Int32.self)))
            case .int2: return .int(Int64(try cell.decode(Int16.self)))
            case .float8: return .double(try cell.decode(Double.self))
            case .float4: return .double(Double(try cell.decode(Float.self)))
            case .numeric: return .double(NSDecimalNumber(decimal: try cell.decode(Decimal.self)).doubleValue)
            case .bool: return .int(try cell.decode(Bool.self) ? 1 : 0)
            case .void: return .null
            case .text, .varchar, .bpchar, .name, .json, .jsonb, .uuid: return .text(try cell.decode(String.self))
            default:
                throw RegistryError(
                    .storage,
                    "PostgreSQL column '\(cell.columnName)' has type \(cell.dataType), which the registry does not read (in: \(sql.prefix(200)))")
            }
        } catch let error as RegistryError {
            throw error
        } catch {
            throw RegistryError(
                .storage, "cannot read PostgreSQL column '\(cell.columnName)' (\(cell.dataType)): \(error)", cause: error)
        }
    }
}

/// Connections to one database, made on demand and kept for reuse, at most `maximum` at a time;
/// further leases wait for one to come back.
private final class PostgresConnectionPool: Sendable {
    private struct State {
        var idle: [PostgresConnection] = []
        var leased = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
        var closed = false
        /// Connections being closed after their lease.
        var closing = 0
        var drained: CheckedContinuation<Void, Never>?
        var nextID = 1
    }

    private enum Step {
        case use(PostgresConnection)
        case connect(id: Int)
        case wait
        case closed
    }

    private let state = Mutex(State())
    private let target: PostgresURL
    private let eventLoopGroup: any EventLoopGroup
    private let maximum: Int
    private let logger: Logger

    init(target: PostgresURL, eventLoopGroup: any EventLoopGroup, maximum: Int, logger: Logger) {
        self.target = target
        self.eventLoopGroup = eventLoopGroup
        self.maximum = maximum
        self.logger = logger
    }

    /// An open connection, reused or new; hand it back with `release`.
    func lease() async throws -> PostgresConnection {
        while true {
            let step = state.withLock { state -> Step in
                if state.closed { return .closed }
                guard state.leased < maximum else { return .wait }
                state.leased += 1
                while let connection = state.idle.popLast() {
                    if !connection.isClosed { return .use(connection) }
                }
                defer { state.nextID += 1 }
                return .connect(id: state.nextID)
            }
            switch step {
            case .use(let connection):
                return connection
            case .connect(let id):
                do {
                    return try await connect(id: id)
                } catch {
                    await giveBack(nil)
                    throw error
                }
            case .closed:
                throw RegistryError(.storage, "the registry's PostgreSQL connections (\(target.masked)) are closed")
            case .wait:
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let now = state.withLock { state -> Bool in
                        if state.closed || state.leased < maximum { return true }
                        state.waiters.append(continuation)
                        return false
                    }
                    if now { continuation.resume() }
                }
            }
        }
    }

    /// Takes a leased connection back: kept for the next lease when `reusable`, closed otherwise.
    func release(_ connection: PostgresConnection, reusable: Bool) async {
        await giveBack(reusable ? connection : nil, closing: reusable ? nil : connection)
    }

    /// Closes the idle connections, refuses new leases and waits until the leased ones are back.
    func close() async {
        let (idle, waiters) = state.withLock { state in
            state.closed = true
            defer {
                state.idle = []
                state.waiters = []
            }
            return (state.idle, state.waiters)
        }
        for waiter in waiters { waiter.resume() }
        for connection in idle { try? await connection.close() }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                if state.leased == 0, state.closing == 0 { return true }
                state.drained = continuation
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Ends a lease: keeps `keep` for the next one (unless the pool is closed or the connection
    /// broke), closes `closing`, and wakes a lease waiting for a slot.
    private func giveBack(_ keep: PostgresConnection?, closing: PostgresConnection? = nil) async {
        let (toClose, waiter) = state.withLock { state -> (PostgresConnection?, CheckedContinuation<Void, Never>?) in
            state.leased -= 1
            var toClose = closing
            if let keep {
                if state.closed || keep.isClosed { toClose = keep } else { state.idle.append(keep) }
            }
            if toClose != nil { state.closing += 1 }
            return (toClose, state.waiters.isEmpty ? nil : state.waiters.removeFirst())
        }
        waiter?.resume()
        if let toClose {
            try? await toClose.close()
            state.withLock { $0.closing -= 1 }
        }
        // close() returns once every connection is back and closed.
        let drained = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.leased == 0, state.closing == 0, let drained = state.drained else { return nil }
            state.drained = nil
            return drained
        }
        drained?.resume()
    }

    private func connect(id: Int) async throws -> PostgresConnection {
        let configuration: PostgresConnection.Configuration
        do {
            configuration = try target.configuration()
        } catch {
            throw RegistryError(.storage, "cannot set up TLS for PostgreSQL at \(target.endpoint): \(error)", cause: error)
        }
        do {
            return try await PostgresConnection.connect(
                on: eventLoopGroup.any(), configuration: configuration, id: id, logger: logger)
        } catch {
            throw RegistryError(
                .storage,
                "cannot connect to PostgreSQL at \(target.endpoint) (database '\(target.database)', user '\(target.user)'): \(PostgresBackend.describe(error))",
                cause: error)
        }
    }
}

/// A parsed `postgres://` URL.
struct PostgresURL: Sendable {
    enum TLSMode: String, Sendable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    var scheme: String
    var user: String
    var password: String?
    var host: String
    var port: Int
    var database: String
    var tls: TLSMode
    var connectTimeout: Int64
    /// The query as written, to keep in URLs made from this one.
    var query: String?

    static let expected =
        "expected postgres://user[:password]@host[:port]/database (or postgresql://), optionally with ?sslmode=disable|allow|prefer|require|verify-ca|verify-full and connect_timeout=SECONDS"

    init(_ url: String) throws(RegistryError) {
        func invalid(_ problem: String) -> RegistryError {
            RegistryError(.invalidArgument, "invalid PostgreSQL URL '\(Self.mask(url))': \(problem); \(Self.expected)")
        }
        guard let components = URLComponents(string: url) else { throw invalid("not a URL") }
        guard let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql" else {
            throw invalid("the scheme must be postgres or postgresql")
        }
        guard let user = components.user, !user.isEmpty else { throw invalid("no user") }
        guard var host = components.host, !host.isEmpty else { throw invalid("no host") }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw invalid("port \(port) is out of range") }
        let path = components.path
        let database = path.hasPrefix("/") ? String(path.dropFirst()) : path
        guard !database.isEmpty, !database.contains("/") else { throw invalid("no database name after the host") }
        var tls = TLSMode.prefer
        var connectTimeout: Int64 = 10
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    throw invalid("unknown sslmode '\(item.value ?? "")'")
                }
                tls = mode
            case "connect_timeout":
                guard let seconds = item.value.flatMap(Int64.init), seconds > 0 else {
                    throw invalid("connect_timeout must be a positive number of seconds")
                }
                connectTimeout = seconds
            default:
                throw invalid("unsupported parameter '\(item.name)'")
            }
        }
        self.scheme = scheme
        self.user = user
        self.password = components.password
        self.host = host
        self.port = port
        self.database = database
        self.tls = tls
        self.connectTimeout = connectTimeout
        self.query = components.percentEncodedQuery
    }

    /// `host:port`, bracketed for IPv6.
    var endpoint: String { (host.contains(":") ? "[\(host)]" : host) + ":\(port)" }

    /// The URL with the password shown as `***`.
    var masked: String { string(database: database, password: password == nil ? nil : "***", encodePassword: false) }

    /// The URL of another database of the same server, with the same credentials and options.
    func replacingDatabase(with name: String) -> String {
        string(database: name, password: password, encodePassword: true)
    }

    private func string(database: String, password: String?, encodePassword: Bool) -> String {
        let allowed = CharacterSet.urlUserAllowed.subtracting(CharacterSet(charactersIn: ":@/?#[]"))
        let userText = user.addingPercentEncoding(withAllowedCharacters: allowed) ?? user
        var text = "\(scheme)://\(userText)"
        if let password {
            text += ":" + (encodePassword ? password.addingPercentEncoding(withAllowedCharacters: allowed) ?? password : password)
        }
        text += "@\(endpoint)/\(database.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? database)"
        if let query { text += "?" + query }
        return text
    }

    /// For messages about a URL that did not parse: whatever sits between `:` and `@` after the
    /// scheme is hidden.
    static func mask(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://"), let at = url.range(of: "@", options: .backwards) else { return url }
        let userInfo = url[schemeEnd.upperBound..<at.lowerBound]
        guard let colon = userInfo.firstIndex(of: ":") else { return url }
        return String(url[..<url.index(after: colon)]) + "***" + String(url[at.lowerBound...])
    }

    func configuration() throws -> PostgresConnection.Configuration {
        let tlsConfiguration: PostgresConnection.Configuration.TLS
        func context(_ verification: CertificateVerification) throws -> NIOSSLContext {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = verification
            return try NIOSSLContext(configuration: configuration)
        }
        switch tls {
        case .disable, .allow: tlsConfiguration = .disable
        case .prefer: tlsConfiguration = .prefer(try context(.none))
        case .require: tlsConfiguration = .require(try context(.none))
        case .verifyCA: tlsConfiguration = .require(try context(.noHostnameVerification))
        case .verifyFull: tlsConfiguration = .require(try context(.fullVerification))
        }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tlsConfiguration)
        configuration.options.connectTimeout = .seconds(connectTimeout)
        return configuration
    }
}
