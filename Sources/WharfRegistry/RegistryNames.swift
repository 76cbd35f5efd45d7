/// The names the registry accepts for models, aliases and tags: 1 to 128 characters from
/// `A-Z a-z 0-9 . _ -`, starting with a letter or digit. No path separators and no `..`, so a
/// name can never reach outside the directory or key prefix it is used in.
public enum RegistryNames {
    public static let maxLength = 128

    /// Checks `name`; `what` says what it names ("model name", "alias").
    public static func validate(_ name: String, _ what: String) throws(RegistryError) {
        guard !name.isEmpty else {
            throw RegistryError(.invalidName, "\(what) is empty; expected 1 to \(maxLength) characters from A-Z a-z 0-9 . _ -")
        }
        guard name.utf8.count <= maxLength else {
            throw RegistryError(.invalidName, "\(what) is \(name.utf8.count) bytes long; at most \(maxLength) are allowed")
        }
        guard name.unicodeScalars.allSatisfy(isAllowed) else {
            throw RegistryError(.invalidName, "\(what) '\(name)' has characters other than A-Z a-z 0-9 . _ - (no path separators or spaces)")
        }
        guard let first = name.unicodeScalars.first, isAlphanumeric(first) else {
            throw RegistryError(.invalidName, "\(what) '\(name)' must start with a letter or a digit")
        }
        guard !name.contains("..") else {
            throw RegistryError(.invalidName, "\(what) '\(name)' must not contain '..'")
        }
    }

    private static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9": true
        default: false
        }
    }

    private static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        isAlphanumeric(scalar) || scalar == "." || scalar == "_" || scalar == "-"
    }
}
