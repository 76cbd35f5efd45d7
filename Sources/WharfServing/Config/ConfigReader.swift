import Yams
/// Typed access to a parsed YAML mapping, with errors that name the file and key.
package struct ConfigReader {
    private let values: [String: Any]
    private let source: String
    private let path: String

    package init(_ values: [String: Any], source: String, path: String = "") {
        self.values = values
        self.source = source
        self.path = path
    }

    private func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Parses a YAML document whose top level is a mapping; `nil` for an empty document.
    package static func parse(yaml text: String, source: String) throws(ConfigError) -> [String: Any]? {
        do {
            guard let loaded = try Yams.load(yaml: text) else { return nil }
            guard let mapping = loaded as? [String: Any] else {
                throw ConfigError("\(source): expected a mapping of settings at the top level, got \(type(of: loaded))")
            }
            return mapping
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError("\(source): not valid YAML: \(error)")
        }
    }

    /// The file the values come from.
    var sourceName: String { source }

    /// Whether the mapping has `key`.
    func values(has key: String) -> Bool { values[key] != nil }

    /// A positive integer.
    package func positive(_ key: String) throws(ConfigError) -> Int? {
        guard let number = try int(key) else { return nil }
        guard number > 0 else { throw fail(key, expected: "a positive integer", got: number) }
        return number
    }

    private func fail(_ key: String, expected: String, got value: Any) -> ConfigError {
        ConfigError("\(source): \(name(key)) expects \(expected), got \(String(describing: value))")
    }

    package func string(_ key: String) throws(ConfigError) -> String? {
        guard let value = values[key] else { return nil }
        guard let text = value as? String else { throw fail(key, expected: "a string", got: value) }
        return text
    }

    package func int(_ key: String) throws(ConfigError) -> Int? {
        guard let value = values[key] else { return nil }
        guard let number = value as? Int else { throw fail(key, expected: "an integer", got: value) }
        return number
    }

    package func double(_ key: String) throws(ConfigError) -> Double? {
        guard let value = values[key] else { return nil }
        if let number = value as? Double { return number }
        if let number = value as? Int { return Double(number) }
        throw fail(key, expected: "a number", got: value)
    }

    package func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard let value = values[key] else { return nil }
        guard let flag = value as? Bool else { throw fail(key, expected: "true or false", got: value) }
        return flag
    }

    package func intList(_ key: String) throws(ConfigError) -> [Int]? {
        guard let value = values[key] else { return nil }
        guard let list = value as? [Any], let numbers = list as? [Int] else {
            throw fail(key, expected: "a list of integers", got: value)
        }
        return numbers
    }

    package func stringList(_ key: String) throws(ConfigError) -> [String]? {
        guard let value = values[key] else { return nil }
        guard let list = value as? [Any], let strings = list as? [String] else {
            throw fail(key, expected: "a list of strings", got: value)
        }
        return strings
    }

    /// A nested mapping (empty when absent), checked to hold only `known` keys.
    package func section(_ key: String, known: [String]) throws(ConfigError) -> ConfigReader {
        guard let value = values[key] else { return ConfigReader([:], source: source, path: name(key)) }
        guard let mapping = value as? [String: Any] else { throw fail(key, expected: "a mapping", got: value) }
        let reader = ConfigReader(mapping, source: source, path: name(key))
        try reader.rejectUnknown(known: known)
        return reader
    }

    /// A list of nested mappings.
    package func sections(_ key: String) throws(ConfigError) -> [ConfigReader] {
        guard let value = values[key] else { return [] }
        guard let list = value as? [Any] else { throw fail(key, expected: "a list", got: value) }
        var readers: [ConfigReader] = []
        for (index, item) in list.enumerated() {
            guard let mapping = item as? [String: Any] else {
                throw fail("\(key)[\(index)]", expected: "a mapping", got: item)
            }
            readers.append(ConfigReader(mapping, source: source, path: "\(name(key))[\(index)]"))
        }
        return readers
    }

    package func versionPolicy(_ key: String) throws(ConfigError) -> ModelConfig.VersionPolicy? {
        guard let value = values[key] else { return nil }
        if let word = value as? String, word == "all" { return .all }
        guard let mapping = value as? [String: Any], mapping.count == 1, let (kind, argument) = mapping.first else {
            throw fail(key, expected: "all, {latest: N} or {specific: [versions]}", got: value)
        }
        switch kind {
        case "latest":
            guard let count = argument as? Int, count > 0 else { throw fail("\(key).latest", expected: "a positive integer", got: argument) }
            return .latest(count)
        case "all":
            return .all
        case "specific":
            guard let list = argument as? [Any], let versions = list as? [Int], !versions.isEmpty else {
                throw fail("\(key).specific", expected: "a non-empty list of version numbers", got: argument)
            }
            return .specific(versions.map(Int64.init))
        default:
            throw fail(key, expected: "all, {latest: N} or {specific: [versions]}", got: value)
        }
    }

    package func labels(_ key: String) throws(ConfigError) -> [String: Int64] {
        guard let value = values[key] else { return [:] }
        guard let mapping = value as? [String: Any] else { throw fail(key, expected: "a mapping of label to version", got: value) }
        var labels: [String: Int64] = [:]
        for (label, version) in mapping {
            guard let number = version as? Int, number >= 0 else {
                throw fail("\(key).\(label)", expected: "a version number", got: version)
            }
            labels[label] = Int64(number)
        }
        return labels
    }

    /// Throws when the mapping holds a key not in `known` (a typo would otherwise pass silently).
    package func rejectUnknown(known: [String]) throws(ConfigError) {
        if let unknown = values.keys.sorted().first(where: { !known.contains($0) }) {
            throw ConfigError("\(source): unknown key '\(name(unknown))'; known keys: \(known.joined(separator: ", "))")
        }
    }
}
