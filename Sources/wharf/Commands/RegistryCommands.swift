import ArgumentParser
import Foundation
import WharfRegistry

/// Opens the registry, runs `body`, closes the registry; errors print as plain messages.
func withRegistry<T>(_ options: RegistryOptions, inspect: Bool = true, _ body: (Registry) async throws -> T) async throws -> T {
    let registry = try await options.open(inspect: inspect)
    do {
        let result = try await body(registry)
        await registry.close()
        return result
    } catch {
        await registry.close()
        if error is ExitCode || error is ValidationError { throw error }
        throw CLIError(error)
    }
}

/// Prints `value` as JSON for scripts.
func printJSON(_ value: some Encodable) throws {
    print(try JSONCoding.encode(value, pretty: true))
}

/// Parses a positive version number argument.
func parseVersion(_ text: String) throws -> Int64 {
    guard let number = Int64(text), number > 0 else {
        throw ValidationError("a version is a positive integer, got '\(text)'")
    }
    return number
}

extension AuditEvent {
    /// One line for people: `2026-11-25 12:00:01  alias_set production 2 → 3  by ana: why`.
    var summary: String {
        var parts = [TextTable.time(at), action.rawValue]
        if let alias { parts.append(alias) }
        switch (fromVersion, toVersion) {
        case let (from?, to?): parts.append("\(from) → \(to)")
        case let (nil, to?): parts.append("→ \(to)")
        case let (from?, nil): parts.append("\(from) →")
        case (nil, nil): break
        }
        parts.append("by \(actor)" + (reason.isEmpty ? "" : ": \(reason)"))
        return parts.joined(separator: "  ")
    }
}

func historyTable(_ events: [AuditEvent]) -> String {
    var table = TextTable("WHEN", "ACTION", "ALIAS", "FROM", "TO", "BY", "WHY")
    for event in events {
        table.add(
            TextTable.time(event.at), event.action.rawValue, event.alias ?? "", event.fromVersion.map(String.init) ?? "",
            event.toVersion.map(String.init) ?? "", event.actor, event.reason)
    }
    return table.rendered
}

// MARK: wharf models

struct Models: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Models in the registry.", subcommands: [List.self, Show.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the registered models with their aliases.")
        @OptionGroup var registry: RegistryOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await withRegistry(registry, inspect: false) { registry in
                let models = try await registry.store.models()
                if json { return try printJSON(models) }
                guard !models.isEmpty else { return print("no models registered; add one with `wharf versions push MODEL PATH`") }
                var table = TextTable("MODEL", "VERSIONS", "LATEST", "ALIASES", "CREATED")
                let aliasesByModel = Dictionary(grouping: try await registry.store.aliases(), by: \.model)
                for model in models {
                    let ready = try await registry.store.versions(of: model.name).filter { $0.status == .ready }
                    let aliases = (aliasesByModel[model.name] ?? []).map { "\($0.alias)=\($0.version)" }
                    table.add(
                        model.name, String(ready.count), ready.last.map { String($0.version) } ?? "-", aliases.joined(separator: " "),
                        TextTable.time(model.createdAt))
                }
                print(table.rendered)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a model: retention, aliases and versions.")
        @OptionGroup var registry: RegistryOptions
        @Argument(help: "The model.") var model: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await withRegistry(registry, inspect: false) { registry in
                let record = try await registry.model(model)
                let aliases = try await registry.store.aliases(of: model)
                let versions = try await registry.store.versions(of: model)
                if json {
                    struct Detail: Encodable { var model: ModelRecord; var aliases: [AliasRecord]; var versions: [VersionRecord] }
                    return try printJSON(Detail(model: record, aliases: aliases, versions: versions))
                }
                print("model      \(record.name)")
                print("created    \(TextTable.time(record.createdAt))")
                print("retention  \(Registry.describe(record.retention))")
                print("aliases    \(aliases.isEmpty ? "none" : aliases.map { "\($0.alias) → \($0.version)" }.joined(separator: ", "))")
                print("")
                print(versionsTable(versions))
            }
        }
    }
}

func versionsTable(_ versions: [VersionRecord]) -> String {
    var table = TextTable("VERSION", "STATUS", "FORMATS", "SIZE", "SHA256", "CREATED", "AUTHOR", "TAGS", "DESCRIPTION")
    for version in versions {
        table.add(
            String(version.version), version.status.rawValue, version.formats.joined(separator: ","), TextTable.bytes(version.sizeBytes),
            String((version.contentHash ?? "-").prefix(12)), TextTable.time(version.createdAt), version.author,
            version.tags.joined(separator: ","), version.description)
    }
    return table.rendered
}

// MARK: wharf versions

struct Versions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Immutable, numbered versions of a model.",
        subcommands: [List.self, Show.self, Push.self, Tag.self, Delete.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a model's versions (READY ones unless --all).")
        @OptionGroup var registry: RegistryOptions
        @Argument(help: "The model.") var model: String
        @Flag(help: "Include pending and failed versions.") var all = false
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await withRegistry(registry, inspect: false) { registry in
                _ = try await registry.model(model)
                let versions = try await registry.store.versions(of: model).filter { all || $0.status == .ready }
                if json { return try printJSON(versions) }
                print(versionsTable(versions))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one version: hash, formats, signatures, metrics, lineage.")
        @OptionGroup var registry: RegistryOptions
        @Argument(help: "The model.") var model: String
        @Argument(help: "The version number.") var version: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let number = try parseVersion(version)
            try await withRegistry(registry, inspect: false) { registry in
                _ = try await registry.model(model)
                guard let record = try await registry.store.version(model: model, version: number) else {
                    _ = try await registry.readyVersion(model: model, version: number)
                    return
                }
                if json { return try printJSON(record) }
                let aliases = try await registry.store.aliases(of: model).filter { $0.version == number }.map(\.alias)
                print("model        \(record.model)")
                print("version      \(record.version)  (\(record.status.rawValue))\(record.failure.map { ": " + $0 } ?? "")")
                print("aliases      \(aliases.isEmpty ? "none" : aliases.joined(separator: ", "))")
                print("sha256       \(record.contentHash ?? "-")")
                print("size         \(TextTable.bytes(record.sizeBytes))")
                print("formats      \(record.formats.joined(separator: ", "))")
                print("created      \(TextTable.time(record.createdAt)) by \(record.author)")
                if !record.description.isEmpty { print("description  \(record.description)") }
                if !record.tags.isEmpty { print("tags         \(record.tags.joined(separator: ", "))") }
                for signature in record.signatures {
                    let inputs = signature.inputs.map { "\($0.name) \($0.dtype)\($0.shape.map { "\($0)" } ?? "[?]")" }
                    let outputs = signature.outputs.map { "\($0.name) \($0.dtype)\($0.shape.map { "\($0)" } ?? "[?]")" }
                    print("signature    \(signature.key): \(inputs.joined(separator: ", ")) → \(outputs.joined(separator: ", "))")
                }
                for (name, value) in record.metrics.sorted(by: { $0.key < $1.key }) { print("metric       \(name) = \(value)") }
                let lineage = record.lineage
                if let source = lineage.sourcePath { print("source       \(source)\(lineage.sourceVersion.map { " (version \($0) there)" } ?? "")") }
                if let converter = lineage.converter { print("converter    \(converter) \(lineage.converterParameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))") }
                if let parent = lineage.parentVersion { print("parent       version \(parent)") }
            }
        }
    }

    struct Push: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a model directory as the next version of MODEL.",
            discussion: """
                PATH holds a SavedModel (saved_model.pb), model.onnx and/or .tflite files. A TF Serving base path \
                (PATH/1/, PATH/2/, ...) imports every version directory in ascending order. The model is loaded \
                once to record its signatures; nothing is written if it does not load.
                """)
        @OptionGroup var registry: RegistryOptions
        @Argument(help: "The model name.") var model: String
        @Argument(help: "The model directory (or a TF Serving base path).") var path: String
        @Option(help: "What this version is.") var description: String = ""
        @Option(help: "A tag (repeatable).") var tag: [String] = []
        @Option(help: "Who registers it (default: $WHARF_ACTOR or $USER).") var author: String?
        @Option(help: "A metric NAME=VALUE to record (repeatable).") var metric: [String] = []
        @Option(name: .customLong("parent"), help: "The version this one derives from.") var parent: Int64?
        @Option(name: .customLong("alias"), help: "Point this alias at the new version (e.g. staging).") var alias: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            var metrics: [String: Double] = [:]
            for item in metric {
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, let value = Double(parts[1]) else {
                    throw ValidationError("--metric expects NAME=NUMBER, got '\(item)'")
                }
                metrics[parts[0]] = value
            }
            try await withRegistry(registry) { registry in
                let request = Registry.PushRequest(
                    model: model, path: path, author: author ?? Registry.defaultActor, description: description, tags: tag,
                    metrics: metrics, lineage: Lineage(parentVersion: parent))
                let records = Registry.isBasePath(path)
                    ? try await registry.importBasePath(request) : [try await registry.push(request)]
                if let alias, let last = records.last {
                    _ = try await registry.setAlias(model: model, alias: alias, version: last.version, actor: request.author, reason: "pushed")
                }
                if json { return try printJSON(records) }
                for record in records {
                    let origin = record.lineage.sourceVersion.map { " (was version \($0))" } ?? ""
                    print("registered \(record.model) version \(record.version)\(origin): sha256 \(record.contentHash ?? "-"), \(TextTable.bytes(record.sizeBytes)), \(record.formats.joined(separator: ","))")
                }
                if let alias, let last = records.last { print("\(alias) → \(last.version)") }
            }
        }
    }

    struct Tag: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replace a version's tags.")
        @OptionGroup var registry: RegistryOptions
        @Argument(help: "The model.") var model: String
        @Argument(help: "The version number.") var version: String
        @Argument(help: "The tags (none clears them).") var tags: [String] = []
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let number = try parseVersion(version)
            try await withRegistry(registry, inspect: false) { registry in
                let record = try await registry.setTags(model: model, version: number, tags: tags)
                if json { return try printJSON(record) }
                print("\(model) version \(number) tags: \(record.tags.isEmpty ? "none" : record.tags.joined(separator: ", "))")
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a version (refused while an alias points at it); `wharf gc` removes its files.")
        @OptionGroup var registry: RegistryOptions
        @Argument(help: "The model.") var model: String
        @Argument(help: "The version number.") var version: String
        @Option(help: "Why (kept in the history).") var reason: String = ""

        func run() async throws {
            let number = try parseVersion(version)
            try await withRegistry(registry, inspect: false) { registry in
                _ = try await registry.deleteVersion(model: model, version: number, reason: reason)
                print("deleted \(model) version \(number)")
            }
        }
    }
}

// MARK: wharf alias

struct Alias: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Aliases (production, staging, canary, any name) that point at versions.",
        subcommands: [SetAlias.self, List.self, History.self, Remove.self], defaultSubcommand: List.self)

    struct SetAlias: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Point ALIAS at VERSION (one atomic move, recorded).")
        @OptionGroup var registry: RegistryOptions
        @Argument(help: "The model.") var model: String
        @Argument(help: "The alias.") var alias: String
        @Argument(help: "The version number.") var version: String
        @Option(help: "Why (kept in the history).") var reason: String = ""
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let number = try parseVersion(version)
            try await withRegistry(registry, inspect: false) { registry in
                let event = try await registry.setAlias(model: model, alias: alias, version: number, reason: reason)
                if json { return try printJSON(event) }
                print("\(model) \(alias): \(event.fromVersion.map(String.init) ?? "(new)") → \(number)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a model's aliases.")
        @OptionGroup var registry: RegistryOptions
        @Argument(help: "The model.") var model: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await withRegistry(registry, inspect: false) { registry in
                _ = try await registry.model(model)
                let aliases = try await registry.store.aliases(of: model)
                if json { return try printJSON(aliases) }
                guard !aliases.isEmpty else { return print("model '\(model)' has no aliases; set one with `wharf alias set \(model) production VERSION`") }
                var table = TextTable("ALIAS", "VERSION", "SINCE", "BY")
                for alias in aliases { table.add(alias.alias, String(alias.version), TextTable.time(alias.updatedAt), alias.updatedBy) }
                print(table.rendered)
            }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every move of a model's aliases: who, when, from, to, why.")
        @OptionGroup var registry: RegistryOptions
        @Argument(help: "The model.") var model: String
        @Option(help: "Only this alias.") var alias: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await withRegistry(registry, inspect: false) { registry in
                _ = try await registry.model(model)
                if let alias { try RegistryNames.validate(alias, "alias") }
                let events = try await registry.store.events(model: model, alias: alias).filter { $0.alias != nil }
                if json { return try printJSON(events) }
                print(historyTable(events))
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an alias (recorded).")
        @OptionGroup var registry: RegistryOptions
        @Argument(help: "The model.") var model: String
        @Argument(help: "The alias.") var alias: String
        @Option(help: "Why (kept in the history).") var reason: String = ""

        func run() async throws {
            try await withRegistry(registry, inspect: false) { registry in
                let event = try await registry.removeAlias(model: model, alias: alias, reason: reason)
                print("removed \(model) \(alias) (was \(event.fromVersion.map(String.init) ?? "-"))")
            }
        }
    }
}

// MARK: wharf rollback, history, retention, gc

struct Rollback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Move an alias back to the version it pointed at before (or --to VERSION).",
        discussion: "Rollbacks stack: after 1 → 2 → 3, a rollback goes to 2 and the next one to 1. Nothing is copied.")
    @OptionGroup var registry: RegistryOptions
    @Argument(help: "The model.") var model: String
    @Option(help: "The alias to move back.") var alias: String = Registry.productionAlias
    @Option(help: "The version to go back to (default: the previous one).") var to: String?
    @Option(help: "Why (kept in the history).") var reason: String = ""
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let target = try to.map(parseVersion)
        try await withRegistry(registry, inspect: false) { registry in
            let event = try await registry.rollback(model: model, alias: alias, to: target, reason: reason)
            if json { return try printJSON(event) }
            print("\(model) \(alias): \(event.fromVersion.map(String.init) ?? "-") → \(event.toVersion.map(String.init) ?? "-") (rolled back)")
        }
    }
}

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "A model's audit log: pushes, alias moves, rollbacks, deletions.")
    @OptionGroup var registry: RegistryOptions
    @Argument(help: "The model.") var model: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await withRegistry(registry, inspect: false) { registry in
            _ = try await registry.model(model)
            let events = try await registry.store.events(model: model)
            if json { return try printJSON(events) }
            print(historyTable(events))
        }
    }
}

struct Retention: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Set which versions of a model `wharf gc` keeps (aliased versions are always kept).")
    @OptionGroup var registry: RegistryOptions
    @Argument(help: "The model.") var model: String
    @Option(name: .customLong("keep-last"), help: "Keep the N newest versions.") var keepLast: Int?
    @Option(name: .customLong("keep-younger-than"), help: "Keep versions younger than this: 90s, 30m, 12h, 7d.") var keepYoungerThan: String?
    @Flag(help: "Remove the policy (keep everything).") var clear = false

    func run() async throws {
        var policy = RetentionPolicy()
        if !clear {
            if let keepLast {
                guard keepLast >= 0 else { throw ValidationError("--keep-last expects 0 or more, got \(keepLast)") }
                policy.keepLast = keepLast
            }
            if let keepYoungerThan { policy.keepYoungerThanSeconds = try parseAge(keepYoungerThan) }
            guard !policy.isEmpty else { throw ValidationError("give --keep-last, --keep-younger-than, or --clear") }
        }
        try await withRegistry(registry, inspect: false) { registry in
            let record = try await registry.setRetention(model: model, policy: policy)
            print("\(model): \(Registry.describe(record.retention))")
        }
    }

    private func parseAge(_ text: String) throws -> Double {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800]
        guard let unit = text.last, let scale = units[unit], let number = Double(text.dropLast()), number > 0 else {
            throw ValidationError("--keep-younger-than expects a number and a unit (s, m, h, d, w) like 7d; got '\(text)'")
        }
        return number * scale
    }
}

struct GarbageCollect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Apply retention policies, mark abandoned pushes FAILED, and remove artifacts no version refers to.")
    @OptionGroup var registry: RegistryOptions
    @Option(help: "Only this model's retention policy.") var model: String?
    @Flag(name: .customLong("dry-run"), help: "Say what would go, remove nothing.") var dryRun = false
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await withRegistry(registry, inspect: false) { registry in
            if let model { _ = try await registry.model(model) }
            let report = try await registry.collectGarbage(model: model, dryRun: dryRun)
            if json { return try printJSON(report) }
            let verb = dryRun ? "would delete" : "deleted"
            print("\(verb) versions: \(report.deletedVersions.isEmpty ? "none" : report.deletedVersions.joined(separator: ", "))")
            print("abandoned pushes: \(report.abandonedPushes.isEmpty ? "none" : report.abandonedPushes.joined(separator: ", "))")
            print("\(dryRun ? "would remove" : "removed") artifacts: \(report.removedArtifacts.count), leftovers: \(report.removedLeftovers)")
        }
    }
}

// MARK: wharf traffic

struct Traffic: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A model's traffic split: the share of unversioned requests that goes to another alias (a canary).",
        subcommands: [SetSplit.self, Show.self], defaultSubcommand: Show.self)

    struct SetSplit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Send WEIGHT (0 to 1) of unversioned requests to ALIAS; 0 clears it.")
        @OptionGroup var registry: RegistryOptions
        @Argument(help: "The model.") var model: String
        @Argument(help: "The alias that gets the share (e.g. canary).") var alias: String
        @Argument(help: "The share, 0 to 1.") var weight: Double
        @Option(name: .customLong("sticky-header"), help: "Requests with the same value of this header always go the same way.") var stickyHeader: String?
        @Option(help: "Why (kept in the history).") var reason: String = ""

        func run() async throws {
            try await withRegistry(registry, inspect: false) { registry in
                _ = try await registry.setTrafficSplit(model: model, alias: alias, weight: weight, stickyHeader: stickyHeader, reason: reason)
                print(weight > 0 ? "\(model): \(Int((weight * 100).rounded())) % of unversioned requests to \(alias)" : "\(model): no traffic split")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a model's traffic split.")
        @OptionGroup var registry: RegistryOptions
        @Argument(help: "The model.") var model: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await withRegistry(registry, inspect: false) { registry in
                _ = try await registry.model(model)
                let split = try await registry.store.trafficSplits(model: model).first
                if json { return try printJSON(split) }
                guard let split else { return print("\(model): no traffic split; every unversioned request goes to production") }
                print("\(model): \(Int((split.weight * 100).rounded())) % to \(split.alias)\(split.stickyHeader.map { ", sticky on \($0)" } ?? "") (set by \(split.updatedBy) at \(TextTable.time(split.updatedAt)))")
            }
        }
    }
}
