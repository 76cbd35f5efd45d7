import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
import WharfTesting

/// How the server reads request bodies off a connection: a body that comes in pieces, the next
/// request on the same connection, and a body cut short by the client.
@Suite(.enabled(if: Fixtures.available, "run scripts/bootstrap to build the fixtures"), .serialized)
struct BodyReadingTests {
    static let path = "/v1/models/two_io:predict"
    static let body = Array(#"{"instances": [{"features": [1.5, 2, 3, 4], "ids": [1, 2, 3]}]}"#.utf8)

    static func head(length: Int) -> [UInt8] {
        Array("POST \(path) HTTP/1.1\r\nHost: wharf\r\nContent-Type: application/json\r\nContent-Length: \(length)\r\n\r\n".utf8)
    }

    /// A body whose bytes come in three writes is read whole (the server reads up to the
    /// Content-Length, not just the first piece), and the connection then serves the next
    /// request, sent in one write.
    @Test func bodyInPiecesThenTheNextRequest() async throws {
        let repository = try ScratchRepository()
        try repository.addVersion("two_io", 1, fixture: "two_io")
        let server = try await TestServer.start(repository: repository.root)
        defer { Task { await server.stop() } }
        let expected = try await server.request("POST", Self.path, body: Data(Self.body))
        #expect(expected.status == 200, "\(expected.text)")

        let connection = try RawConnection(port: server.port)
        try connection.send(Self.head(length: Self.body.count) + Self.body[..<20])
        try await Task.sleep(for: .milliseconds(50))
        try connection.send(Array(Self.body[20..<40]))
        try await Task.sleep(for: .milliseconds(50))
        try connection.send(Array(Self.body[40...]))
        let first = try connection.readResponse()
        #expect(first?.status == 200)
        #expect(first?.body == Array(expected.body))

        try connection.send(Self.head(length: Self.body.count) + Self.body)
        let second = try connection.readResponse()
        #expect(second?.status == 200)
        #expect(second?.body == Array(expected.body))
    }

    /// A client that stops sending after part of its body gets a 400 that says so (it was a 500
    /// "internal error" from the HTTP parser), and the server keeps serving others.
    @Test func bodyCutShort() async throws {
        let repository = try ScratchRepository()
        try repository.addVersion("two_io", 1, fixture: "two_io")
        let server = try await TestServer.start(repository: repository.root)
        defer { Task { await server.stop() } }

        let connection = try RawConnection(port: server.port)
        try connection.send(Self.head(length: Self.body.count + 100) + Self.body)
        connection.finishSending()
        let answer = try #require(try connection.readResponse())
        let message = String(decoding: answer.body, as: UTF8.self)
        #expect(answer.status == 400, "\(message)")
        #expect(message.contains("Content-Length \(Self.body.count + 100)"), "\(message)")
        let healthy = try await server.request("POST", Self.path, body: Data(Self.body))
        #expect(healthy.status == 200)
    }
}

/// A blocking TCP connection to the test server, for requests that URLSession cannot send: a body
/// in pieces, a body cut short.
final class RawConnection {
    private let descriptor: Int32
    private var received: [UInt8] = []

    init(port: Int) throws {
        #if canImport(Glibc)
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw RawConnectionError("socket() failed: errno \(errno)") }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(descriptor)
            throw RawConnectionError("connect() to port \(port) failed: errno \(errno)")
        }
    }

    deinit { close(descriptor) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard sent > 0 else { throw RawConnectionError("write() failed: errno \(errno)") }
            offset += sent
        }
    }

    /// Closes the sending side: the server sees the end of the stream.
    func finishSending() {
        shutdown(descriptor, Int32(SHUT_WR))
    }

    /// The next response (status and body, by its Content-Length), or `nil` if the server closed
    /// the connection first.
    func readResponse() throws -> (status: Int, body: [UInt8])? {
        let separator = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        while true {
            if let end = headEnd ?? find(separator) {
                headEnd = end
                let head = String(decoding: received[..<end], as: UTF8.self)
                let lines = head.components(separatedBy: "\r\n")
                let status = lines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
                let length = lines.dropFirst().compactMap { line -> Int? in
                    let parts = line.split(separator: ":", maxSplits: 1)
                    guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
                    return Int(parts[1].trimmingCharacters(in: .whitespaces))
                }.first ?? 0
                let bodyStart = end + separator.count
                if received.count >= bodyStart + length {
                    let body = Array(received[bodyStart..<(bodyStart + length)])
                    received.removeFirst(bodyStart + length)
                    return (status, body)
                }
            }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { return nil }
            guard count > 0 else { throw RawConnectionError("read() failed: errno \(errno)") }
            received += buffer[..<count]
        }
    }

    private func find(_ pattern: [UInt8]) -> Int? {
        guard received.count >= pattern.count else { return nil }
        for start in 0...(received.count - pattern.count) where received[start..<(start + pattern.count)].elementsEqual(pattern) {
            return start
        }
        return nil
    }
}

struct RawConnectionError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
