import Foundation

/// Where an S3 artifact store keeps its objects: a bucket, a key prefix inside it, and the server
/// that holds it, addressed path-style (`ENDPOINT/BUCKET/KEY`).
///
/// Written as a URL: `s3://BUCKET/PREFIX?endpoint=http://127.0.0.1:9000&region=us-east-1`. Without
/// `endpoint` the server is AWS's, `https://s3.REGION.amazonaws.com`; without `region` it is
/// `AWS_REGION`, else `AWS_DEFAULT_REGION`, else `us-east-1`.
public struct S3Location: Sendable, Equatable, CustomStringConvertible {
    /// The bucket's name.
    public let bucket: String
    /// The key prefix, without leading or trailing slash; empty for the bucket's root.
    public let prefix: String
    /// The region requests are signed for.
    public let region: String
    /// The server: `scheme://host[:port]`.
    public let endpoint: String
    /// Whether `endpoint` was given rather than derived from the region.
    public let hasCustomEndpoint: Bool
    /// The `Host` header requests carry (and sign).
    let hostHeader: String

    /// A location from its parts; `endpoint` nil means AWS's endpoint for `region`.
    public init(bucket: String, prefix: String = "", region: String = "us-east-1", endpoint: String? = nil) throws(RegistryError) {
        try self.init(bucket: bucket, prefix: prefix, region: region, endpoint: endpoint, source: nil)
    }

    /// Parses `s3://BUCKET[/PREFIX][?endpoint=URL][&region=REGION]`.
    public init(url: String) throws(RegistryError) {
        try self.init(url: url, environment: ProcessInfo.processInfo.environment)
    }

    init(url: String, environment: [String: String]) throws(RegistryError) {
        let expected = "expected s3://BUCKET[/PREFIX][?endpoint=http://HOST:PORT][&region=REGION]"
        guard url.hasPrefix("s3://") else {
            throw RegistryError(.invalidArgument, "'\(url)' is not an S3 location: \(expected)")
        }
        var rest = Substring(url.dropFirst("s3://".count))
        var parameters: [String: String] = [:]
        if let mark = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: mark)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(parts[0])
                let value = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
                guard name == "endpoint" || name == "region" else {
                    throw RegistryError(
                        .invalidArgument, "'\(url)': unknown parameter '\(name)'; the parameters are endpoint and region (\(expected))")
                }
                guard parameters[name] == nil else {
                    throw RegistryError(.invalidArgument, "'\(url)': parameter '\(name)' is given twice (\(expected))")
                }
                parameters[name] = value
            }
            rest = rest[..<mark]
        }
        let bucket: Substring
        var prefix: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            bucket = rest[..<slash]
            prefix = rest[rest.index(after: slash)...]
        } else {
            bucket = rest
        }
        let region = parameters["region"]
            ?? environment["AWS_REGION"].flatMap { $0.isEmpty ? nil : $0 }
            ?? environment["AWS_DEFAULT_REGION"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "us-east-1"
        try self.init(bucket: String(bucket), prefix: String(prefix), region: region, endpoint: parameters["endpoint"], source: url)
    }

    private init(bucket: String, prefix: String, region: String, endpoint: String?, source: String?) throws(RegistryError) {
        let context = source.map { "'\($0)': " } ?? ""
        let lowerOrDigit: (UInt8) -> Bool = { (97...122).contains($0) || (48...57).contains($0) }
        let bytes = Array(bucket.utf8)
        guard (3...63).contains(bytes.count), lowerOrDigit(bytes.first!), lowerOrDigit(bytes.last!),
            bytes.allSatisfy({ lowerOrDigit($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") })
        else {
            throw RegistryError(
                .invalidArgument,
                "\(context)'\(bucket)' is not an S3 bucket name: expected 3 to 63 lower-case letters, digits, '-' or '.', starting and ending with a letter or digit")
        }
        var trimmed = Substring(prefix)
        while trimmed.hasPrefix("/") { trimmed = trimmed.dropFirst() }
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        let segments = trimmed.isEmpty ? [] : trimmed.split(separator: "/", omittingEmptySubsequences: false)
        guard segments.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }),
            prefix.utf8.allSatisfy({
                lowerOrDigit($0) || (65...90).contains($0) || [UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "/")].contains($0)
            })
        else {
            throw RegistryError(
                .invalidArgument,
                "\(context)'\(prefix)' is not a usable key prefix: expected segments of letters, digits, '-', '_' or '.' separated by single slashes")
        }
        guard !region.isEmpty, region.utf8.allSatisfy({ lowerOrDigit($0) || $0 == UInt8(ascii: "-") }) else {
            throw RegistryError(.invalidArgument, "\(context)'\(region)' is not an AWS region name (expected e.g. us-east-1)")
        }
        let endpointText = endpoint ?? "https://s3.\(region).amazonaws.com"
        guard let parsed = URL(string: endpointText), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = parsed.host, !host.isEmpty, parsed.path.isEmpty || parsed.path == "/", parsed.query == nil,
            parsed.user == nil
        else {
            throw RegistryError(
                .invalidArgument, "\(context)endpoint '\(endpointText)' is not usable: expected http://HOST[:PORT] or https://HOST[:PORT], without a path")
        }
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        let defaultPort = scheme == "https" ? 443 : 80
        let portPart = parsed.port.map { $0 == defaultPort ? "" : ":\($0)" } ?? ""
        self.bucket = bucket
        self.prefix = String(trimmed)
        self.region = region
        self.endpoint = "\(scheme)://\(hostPart)\(portPart)"
        self.hasCustomEndpoint = endpoint != nil
        self.hostHeader = hostPart + portPart
    }

    /// The location as a URL that ``init(url:)`` reads back.
    public var description: String {
        let path = prefix.isEmpty ? bucket : bucket + "/" + prefix
        return hasCustomEndpoint ? "s3://\(path)?endpoint=\(endpoint)&region=\(region)" : "s3://\(path)?region=\(region)"
    }

    /// The key of `relative` under the prefix.
    func key(_ relative: String) -> String {
        prefix.isEmpty ? relative : prefix + "/" + relative
    }

    /// `s3://BUCKET/KEY`, to name an object in messages.
    func name(_ key: String) -> String {
        "s3://\(bucket)/\(key)"
    }
}
