import Crypto
public import Foundation

/// The keys that sign requests to S3 (or an S3-compatible server).
public struct S3Credentials: Sendable, Equatable, CustomStringConvertible {
    public var accessKeyID: String
    public var secretAccessKey: String
    /// Present with temporary credentials (STS); sent as `x-amz-security-token`.
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// The credentials in `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and, optionally,
    /// `AWS_SESSION_TOKEN` of `environment` (the process environment when nil).
    public static func fromEnvironment(_ environment: [String: String]? = nil) throws(RegistryError) -> S3Credentials {
        let environment = environment ?? ProcessInfo.processInfo.environment
        guard let id = environment["AWS_ACCESS_KEY_ID"], !id.isEmpty,
            let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty
        else {
            throw RegistryError(
                .unauthenticated,
                "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials)")
        }
        let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token)
    }

    /// Names the key but never shows the secret.
    public var description: String {
        "S3Credentials(accessKeyID: \(accessKeyID), secret: hidden\(sessionToken == nil ? "" : ", with session token"))"
    }
}

/// AWS Signature Version 4, as S3 takes it: an `Authorization` header over the method, the path,
/// the query, the headers and the sha256 of the payload (sent as `x-amz-content-sha256`).
///
/// S3 flavour: the path is URI-encoded once (not twice as for other services) and is not
/// normalized; the caller passes it exactly as it goes on the wire (see ``encodePath(_:)``).
public struct S3Signer: Sendable {
    public var credentials: S3Credentials
    public var region: String
    public var service: String

    /// The sha256 of an empty payload.
    public static let emptyPayloadSHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    public init(credentials: S3Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The headers to send: `headers` (which must include `host`) followed by `x-amz-date`,
    /// `x-amz-content-sha256`, `x-amz-security-token` when there is a session token, and
    /// `Authorization`, all of them signed.
    ///
    /// - Parameters:
    ///   - path: the request path as sent, already encoded (``encodePath(_:)``).
    ///   - query: the query parameters, not encoded; send them as ``canonicalQuery(_:)`` writes them.
    ///   - payloadSHA256: the lower-case hex sha256 of the body.
    public func sign(
        method: String, path: String, query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)], payloadSHA256: String, date: Date = Date()
    ) -> [(name: String, value: String)] {
        let (day, timestamp) = Self.timestamps(date)
        var all = headers
        all.append((name: "x-amz-date", value: timestamp))
        all.append((name: "x-amz-content-sha256", value: payloadSHA256))
        if let token = credentials.sessionToken { all.append((name: "x-amz-security-token", value: token)) }

        // Canonical headers: lower-case names, sorted; values trimmed, inner runs of blanks
        // collapsed, repeated names joined with commas.
        var grouped: [String: [String]] = [:]
        for header in all {
            grouped[header.name.lowercased(), default: []].append(Self.collapseBlanks(header.value))
        }
        let names = grouped.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(grouped[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")

        let canonicalRequest = [
            method.uppercased(), path.isEmpty ? "/" : path, Self.canonicalQuery(query), canonicalHeaders, signedHeaders,
            payloadSHA256,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = [
            "AWS4-HMAC-SHA256", timestamp, scope, SHA256.hash(data: Data(canonicalRequest.utf8)).hex,
        ].joined(separator: "\n")

        var key = SymmetricKey(data: Data(("AWS4" + credentials.secretAccessKey).utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        let signature = HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key).hex
        all.append((
            name: "Authorization",
            value: "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope),SignedHeaders=\(signedHeaders),Signature=\(signature)"
        ))
        return all
    }

    /// A path with each segment URI-encoded and the slashes kept: `/bucket/a b` → `/bucket/a%20b`.
    public static func encodePath(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { encode(String($0)) }.joined(separator: "/")
    }

    /// URI-encodes everything but the unreserved characters `A-Z a-z 0-9 - . _ ~`, with upper-case
    /// hex digits, as SigV4 requires.
    public static func encode(_ text: String) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if isUnreserved(byte) {
                bytes.append(byte)
            } else {
                bytes.append(UInt8(ascii: "%"))
                bytes.append(digits[Int(byte >> 4)])
                bytes.append(digits[Int(byte & 0x0f)])
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        let letter = (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte)
        let digit = (0x30...0x39).contains(byte)
        return letter || digit || byte == 0x2d || byte == 0x2e || byte == 0x5f || byte == 0x7e  // - . _ ~
    }

    /// The query string, encoded and sorted by name then value: what is signed and what is sent.
    public static func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
        let encoded: [(name: String, value: String)] = query.map { (name: encode($0.name), value: encode($0.value)) }
        let sorted = encoded.sorted { (a, b) -> Bool in a.name == b.name ? a.value < b.value : a.name < b.name }
        return sorted.map { pair -> String in pair.name + "=" + pair.value }.joined(separator: "&")
    }

    /// `yyyyMMdd` and `yyyyMMdd'T'HHmmss'Z'` in UTC.
    static func timestamps(_ date: Date) -> (String, String) {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let day = String(format: "%04d%02d%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday))
        return (day, day + String(format: "T%02d%02d%02dZ", Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec)))
    }

    private static func collapseBlanks(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }
}
