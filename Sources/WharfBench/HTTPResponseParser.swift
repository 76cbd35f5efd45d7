import NIOCore

/// A minimal HTTP/1.1 response parser for the benchmark's own connections: the status line, the
/// `Content-Length`, `Transfer-Encoding: chunked` and `Connection: close` headers, and the body
/// (dropped for a 2xx answer, its start kept for the error message of any other).
///
/// Feed it what the connection reads; `next(_:)` consumes bytes and returns each complete answer.
struct HTTPResponseParser {
    /// One complete answer.
    struct Response: Equatable {
        var status: Int
        /// The start of the body of a non-2xx answer (empty for a 2xx one).
        var errorBody: ByteBuffer
        /// The server closes the connection after this answer.
        var closes: Bool
    }

    struct Failure: Error, Equatable {
        var message: String
    }

    /// How much of a non-2xx body is kept for the error message.
    static let keptErrorBytes = 64 << 10
    /// The longest response head accepted.
    static let maximumHeadBytes = 64 << 10

    private enum State: Equatable {
        case head
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailer
        case untilClose
    }

    private var state = State.head
    private var status = 0
    private var closes = false
    private var errorBody = ByteBuffer()

    /// The next complete answer in `buffer`, consuming its bytes, or `nil` when more are needed.
    mutating func next(_ buffer: inout ByteBuffer) throws(Failure) -> Response? {
        while true {
            switch state {
            case .head:
                guard let end = Self.firstIndex(of: Self.crlfcrlf, in: buffer) else {
                    if buffer.readableBytes > Self.maximumHeadBytes {
                        throw Failure(message: "the response head is longer than \(Self.maximumHeadBytes) bytes")
                    }
                    return nil
                }
                let head = buffer.readSlice(length: end + 4)!
                try parseHead(head)
            case .fixed(let remaining):
                if remaining == 0 { return finish() }
                guard buffer.readableBytes > 0 else { return nil }
                let count = min(remaining, buffer.readableBytes)
                keep(buffer.readSlice(length: count)!)
                state = .fixed(remaining: remaining - count)
            case .chunkSize:
                guard let end = Self.firstIndex(of: Self.crlf, in: buffer) else { return nil }
                let line = buffer.readSlice(length: end + 2)!
                let size = try Self.chunkSize(line)
                state = size == 0 ? .trailer : .chunkData(remaining: size)
            case .chunkData(let remaining):
                guard buffer.readableBytes > 0 else { return nil }
                let count = min(remaining, buffer.readableBytes)
                keep(buffer.readSlice(length: count)!)
                state = remaining == count ? .chunkDataEnd : .chunkData(remaining: remaining - count)
            case .chunkDataEnd:
                guard buffer.readableBytes >= 2 else { return nil }
                guard buffer.readInteger(as: UInt16.self) == 0x0D0A else {
                    throw Failure(message: "a chunk of the response body does not end with CRLF")
                }
                state = .chunkSize
            case .trailer:
                guard let end = Self.firstIndex(of: Self.crlf, in: buffer) else { return nil }
                buffer.moveReaderIndex(forwardBy: end + 2)
                if end == 0 { return finish() }
            case .untilClose:
                if buffer.readableBytes > 0 { keep(buffer.readSlice(length: buffer.readableBytes)!) }
                return nil
            }
        }
    }

    /// The answer the end of the connection completes (one whose body runs until the server
    /// closes), or `nil`.
    mutating func endOfInput() -> Response? {
        state == .untilClose ? finish() : nil
    }

    /// Whether a response has started and not ended.
    var inResponse: Bool { state != .head }

    private mutating func finish() -> Response {
        let response = Response(status: status, errorBody: errorBody, closes: closes)
        state = .head
        status = 0
        closes = false
        errorBody = ByteBuffer()
        return response
    }

    private mutating func keep(_ slice: ByteBuffer) {
        guard !(200..<300).contains(status), errorBody.readableBytes < Self.keptErrorBytes else { return }
        var slice = slice
        errorBody.writeBuffer(&slice)
    }

    private mutating func parseHead(_ head: ByteBuffer) throws(Failure) {
        let bytes = Array(head.readableBytesView)
        // "HTTP/1.1 200 OK\r\n"
        guard bytes.count >= 12, bytes.starts(with: Self.httpSlash), bytes[8] == UInt8(ascii: " "),
            let code = Self.decimal(bytes[9..<12]), (100..<1000).contains(code)
        else {
            throw Failure(message: "the answer is not HTTP/1.x: '\(String(decoding: bytes.prefix(40), as: UTF8.self))'")
        }
        var contentLength: Int?
        var chunked = false
        var closes = bytes[5...7].elementsEqual("1.0".utf8)
        var lineStart = bytes.firstIndex(of: UInt8(ascii: "\n"))! + 1
        while lineStart < bytes.count {
            guard let newline = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) else { break }
            let line = bytes[lineStart..<newline]
            lineStart = newline + 1
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = line[..<colon]
            let value = Self.trimmed(line[(colon + 1)...])
            if Self.equalsIgnoringCase(name, "content-length") {
                guard let length = Self.decimal(value) else {
                    throw Failure(message: "the answer has an invalid Content-Length")
                }
                contentLength = length
            } else if Self.equalsIgnoringCase(name, "transfer-encoding") {
                chunked = Self.lowercased(value).contains("chunked")
            } else if Self.equalsIgnoringCase(name, "connection") {
                let tokens = Self.lowercased(value)
                if tokens.contains("close") { closes = true } else if tokens.contains("keep-alive") { closes = false }
            }
        }
        if (100..<200).contains(code) {
            // An interim answer (100 Continue): the real one follows.
            state = .head
            return
        }
        status = code
        self.closes = closes
        if code == 204 || code == 304 {
            state = .fixed(remaining: 0)
        } else if chunked {
            state = .chunkSize
        } else if let contentLength {
            state = .fixed(remaining: contentLength)
        } else {
            state = .untilClose
        }
    }

    private static let crlf: [UInt8] = [0x0D, 0x0A]
    private static let crlfcrlf: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A]
    private static let httpSlash: [UInt8] = Array("HTTP/1.".utf8)

    /// The offset of the first `pattern` in `buffer`'s readable bytes.
    private static func firstIndex(of pattern: [UInt8], in buffer: ByteBuffer) -> Int? {
        buffer.withUnsafeReadableBytes { bytes -> Int? in
            let count = bytes.count - pattern.count
            guard count >= 0 else { return nil }
            let first = pattern[0]
            var index = 0
            while index <= count {
                if bytes[index] == first {
                    var matches = true
                    for offset in 1..<pattern.count where bytes[index + offset] != pattern[offset] {
                        matches = false
                        break
                    }
                    if matches { return index }
                }
                index += 1
            }
            return nil
        }
    }

    private static func chunkSize(_ line: ByteBuffer) throws(Failure) -> Int {
        var size = 0
        var digits = 0
        for byte in line.readableBytesView {
            let value: Int
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = Int(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = Int(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = Int(byte - UInt8(ascii: "A")) + 10
            default:
                guard digits > 0 else { throw Failure(message: "the answer has an invalid chunk size") }
                return size
            }
            guard digits < 15 else { throw Failure(message: "the answer has an invalid chunk size") }
            size = size * 16 + value
            digits += 1
        }
        throw Failure(message: "the answer has an invalid chunk size")
    }

    private static func decimal(_ digits: ArraySlice<UInt8>) -> Int? {
        guard !digits.isEmpty, digits.count <= 18 else { return nil }
        var value = 0
        for byte in digits {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 || byte == 0x0D }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }) else { return [] }
        let last = bytes.lastIndex(where: { !isSpace($0) })!
        return bytes[first...last]
    }

    private static func lowercased(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self).lowercased()
    }

    private static func equalsIgnoringCase(_ bytes: ArraySlice<UInt8>, _ lowercase: StaticString) -> Bool {
        let name = Self.trimmed(bytes)
        guard name.count == lowercase.utf8CodeUnitCount else { return false }
        return lowercase.withUTF8Buffer { expected in
            zip(name, expected).allSatisfy { byte, wanted in
                (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte) == wanted
            }
        }
    }
}
