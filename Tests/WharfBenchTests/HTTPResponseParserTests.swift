import NIOCore
import Testing

@testable import WharfBench

/// The lean client's response parser, fed answers whole and in pieces.
struct HTTPResponseParserTests {
    /// Every answer `text` holds, fed `piece` bytes at a time.
    private func parse(_ text: String, piece: Int = .max, endOfInput: Bool = false) throws -> [HTTPResponseParser.Response] {
        var parser = HTTPResponseParser()
        var responses: [HTTPResponseParser.Response] = []
        var pending = ByteBuffer()
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + min(piece, bytes.count))
            pending.writeBytes(bytes[offset..<end])
            offset = end
            while let response = try parser.next(&pending) { responses.append(response) }
        }
        if endOfInput, let response = parser.endOfInput() { responses.append(response) }
        return responses
    }

    @Test(arguments: [1, 3, 7, 1000])
    func keepAliveAnswersWithLengthAndChunks(piece: Int) throws {
        let text =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ncontent-length: 11\r\n\r\n{\"ok\":true}"
            + "HTTP/1.1 100 Continue\r\n\r\n"
            + "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\n{\"err\r\n"
            + "e\r\nor\":\"missing\"}\r\n0\r\nTrailer: 1\r\n\r\n"
            + "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"
        let responses = try parse(text, piece: piece)
        #expect(responses.map(\.status) == [200, 404, 204])
        #expect(responses[0].errorBody.readableBytes == 0, "a 2xx body is dropped")
        #expect(String(buffer: responses[1].errorBody) == #"{"error":"missing"}"#)
        #expect(ResponseCollector.errorText(responses[1].errorBody) == "missing")
        #expect(responses.map(\.closes) == [false, false, true])
    }

    @Test func bodyUntilCloseEndsWithTheConnection() throws {
        let responses = try parse("HTTP/1.0 500 Oops\r\n\r\nbroken", endOfInput: true)
        #expect(responses.map(\.status) == [500])
        #expect(responses[0].closes)
        #expect(String(buffer: responses[0].errorBody) == "broken")
    }

    @Test func garbageIsRejected() {
        #expect(throws: HTTPResponseParser.Failure.self) { try parse("SSH-2.0-OpenSSH\r\n\r\n") }
        #expect(throws: HTTPResponseParser.Failure.self) { try parse("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n") }
        #expect(throws: HTTPResponseParser.Failure.self) { try parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n") }
    }

    @Test func endpointAndRequestBytes() throws {
        let endpoint = try #require(BenchEndpoint(baseURL: "http://127.0.0.1:8501/prefix/"))
        #expect(endpoint.host == "127.0.0.1" && endpoint.port == 8501 && endpoint.pathPrefix == "/prefix")
        let request = EncodedRequest(path: "/v2/models/m/infer", body: Array("abc".utf8), contentType: "application/octet-stream", headerLength: 2)
        #expect(
            String(buffer: endpoint.encode(request))
                == "POST /prefix/v2/models/m/infer HTTP/1.1\r\nHost: 127.0.0.1:8501\r\nContent-Type: application/octet-stream\r\n"
                + "Content-Length: 3\r\nInference-Header-Content-Length: 2\r\n\r\nabc")
        #expect(BenchEndpoint(baseURL: "http://[::1]:9000")?.host == "::1")
        #expect(BenchEndpoint(baseURL: "http://localhost")?.port == 80)
        #expect(BenchEndpoint(baseURL: "https://localhost") == nil)
    }
}
