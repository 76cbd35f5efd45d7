import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1

/// What a request sends.
enum S3Payload: Sendable {
    case empty
    /// Bytes in memory.
    case data(Data)
    /// A file streamed from disk in 1 MiB chunks; its size and sha256 are known beforehand.
    case file(path: String, size: Int64, sha256: String)

    var sha256: String {
        switch self {
        case .empty: S3Signer.emptyPayloadSHA256
        case .data(let data): SHA256.hash(data: data).hex
        case .file(_, _, let sha256): sha256
        }
    }
}

/// The HTTP methods the store sends.
enum S3Method: String, Sendable {
    case GET, PUT, POST, DELETE

    var http: HTTPMethod {
        switch self {
        case .GET: .GET
        case .PUT: .PUT
        case .POST: .POST
        case .DELETE: .DELETE
        }
    }
}

/// One signed request to the store's server: what it does (for messages) and where.
struct S3Request: Sendable {
    var method: S3Method
    /// `PUT object`, `ListObjectsV2`, ...: names the request in errors and in the request counts.
    var operation: String
    /// The object's key; nil for a bucket-level request.
    var key: String?
    var query: [(name: String, value: String)] = []
    var headers: [(name: String, value: String)] = []
    var payload: S3Payload = .empty
    /// A path other than `/BUCKET/KEY` (requests to other services of the same server).
    var path: String?
}

/// An S3 answer with its body read.
struct S3Answer: Sendable {
    var status: UInt
    var headers: HTTPHeaders
    var body: ByteBuffer

    var text: String { String(buffer: body) }
}

/// A file's bytes as a stream of 1 MiB buffers, read when the upload asks for them.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let path: String

    func makeAsyncIterator() -> Iterator { Iterator(path: path) }

    struct Iterator: AsyncIteratorProtocol {
        let path: String
        var handle: FileHandle?
        var finished = false

        init(path: String) { self.path = path }

        mutating func next() async throws -> ByteBuffer? {
            if finished { return nil }
            if handle == nil {
                guard let opened = FileHandle(forReadingAtPath: path) else {
                    throw RegistryError(.artifactMissing, "cannot read \(path)")
                }
                handle = opened
            }
            let chunk: Data
            do {
                chunk = try handle?.read(upToCount: 1 << 20) ?? Data()
            } catch {
                throw RegistryError(.storage, "cannot read \(path): \(error)", cause: error)
            }
            if chunk.isEmpty {
                try? handle?.close()
                handle = nil
                finished = true
                return nil
            }
            return ByteBuffer(bytes: chunk)
        }
    }
}

/// The little of S3's XML that the store reads: the text of elements with no attributes.
enum S3XML {
    /// The raw contents of every `<tag>...</tag>` in `text`, in order.
    static func elements(_ tag: String, in text: Substring) -> [Substring] {
        let open = "<\(tag)>"
        let close = "</\(tag)>"
        var result: [Substring] = []
        var rest = text[...]
        while let start = rest.range(of: open) {
            guard let end = rest.range(of: close, range: start.upperBound..<rest.endIndex) else { break }
            result.append(rest[start.upperBound..<end.lowerBound])
            rest = rest[end.upperBound...]
        }
        return result
    }

    /// The unescaped text of the first `<tag>` element.
    static func first(_ tag: String, in text: Substring) -> String? {
        elements(tag, in: text).first.map(unescape)
    }

    /// Replaces the predefined entities and character references.
    static func unescape(_ raw: Substring) -> String {
        guard raw.contains("&") else { return String(raw) }
        var result = ""
        var rest = raw
        while let ampersand = rest.firstIndex(of: "&") {
            result += rest[..<ampersand]
            guard let semicolon = rest[ampersand...].firstIndex(of: ";") else { break }
            let entity = rest[rest.index(after: ampersand)..<semicolon]
            switch entity {
            case "amp": result += "&"
            case "lt": result += "<"
            case "gt": result += ">"
            case "quot": result += "\""
            case "apos": result += "'"
            default:
                var scalar: Unicode.Scalar?
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                    scalar = UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init)
                } else if entity.hasPrefix("#") {
                    scalar = UInt32(entity.dropFirst(1)).flatMap(Unicode.Scalar.init)
                }
                if let scalar { result.unicodeScalars.append(scalar) } else { result += rest[ampersand...semicolon] }
            }
            rest = rest[rest.index(after: semicolon)...]
        }
        return result + rest
    }

    /// Decodes a value S3 sent URL-encoded (`encoding-type=url`: `+` is a space).
    static func urlDecoded(_ text: String) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }

    /// An ISO 8601 timestamp such as `2009-10-12T17:50:30.000Z` (UTC), to the second.
    static func date(_ text: String) -> Date? {
        let fields = text.prefix(19).split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        guard fields.count == 6 else { return nil }
        var parts = tm()
        parts.tm_year = Int32(fields[0] - 1900)
        parts.tm_mon = Int32(fields[1] - 1)
        parts.tm_mday = Int32(fields[2])
        parts.tm_hour = Int32(fields[3])
        parts.tm_min = Int32(fields[4])
        parts.tm_sec = Int32(fields[5])
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }
}
