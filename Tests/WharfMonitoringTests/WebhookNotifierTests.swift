import Crypto
import Foundation
import Testing
import WharfTesting
import WharfMonitoring

@Suite("Webhook notifier, against a real HTTP server on loopback")
struct WebhookNotifierTests {
    @Test("POSTs Alertmanager's JSON, signed with HMAC-SHA256 when a secret is set")
    func postsSignedPayload() async throws {
        let receiver = try await WebhookReceiver.start()
        let notifier = WebhookNotifier(url: receiver.url, secret: "hook-secret")
        let notification = Samples.notification(.firing)
        try await notifier.send(notification)
        await receiver.stop()

        let requests = receiver.received
        try #require(requests.count == 1)
        let request = requests[0]
        #expect(request.headers["content-type"] == "application/json")

        // The signature verifies with the secret, computed here independently of the notifier.
        let mac = HMAC<SHA256>.authenticationCode(for: request.body, using: SymmetricKey(data: Data("hook-secret".utf8)))
        let expected = "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
        #expect(request.headers["x-wharf-signature"] == expected)
        let wrongKey = HMAC<SHA256>.authenticationCode(for: request.body, using: SymmetricKey(data: Data("other".utf8)))
        #expect(request.headers["x-wharf-signature"] != "sha256=" + wrongKey.map { String(format: "%02x", $0) }.joined())

        // Alertmanager's field names, literally, in the body as sent.
        let text = String(decoding: request.body, as: UTF8.self)
        for key in ["version", "groupKey", "truncatedAlerts", "status", "receiver", "groupLabels", "commonLabels", "commonAnnotations",
                    "externalURL", "alerts", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"] {
            #expect(text.contains("\"\(key)\":"), "no \"\(key)\" in \(text)")
        }
        #expect(text.contains(#""version":"4""#))
        #expect(text.contains(#""endsAt":"0001-01-01T00:00:00Z""#))
        #expect(text.contains(#""startsAt":"2025-11-25T12:00:00Z""#))
        let decoded = try JSONDecoder().decode(AlertNotification.self, from: request.body)
        #expect(decoded == notification)
    }

    @Test("no signature header without a secret")
    func unsigned() async throws {
        let receiver = try await WebhookReceiver.start()
        try await WebhookNotifier(url: receiver.url).send(Samples.notification(.resolved))
        await receiver.stop()
        #expect(receiver.received.count == 1)
        #expect(receiver.received.first?.headers["x-wharf-signature"] == nil)
    }

    @Test("retries after 503 and 429 with growing waits, then succeeds")
    func retriesServerErrors() async throws {
        let receiver = try await WebhookReceiver.start(answers: [
            .init(status: 503, body: "overloaded"), .init(status: 429, headers: ["Retry-After": "0"]), .init(status: 204),
        ])
        let notifier = WebhookNotifier(url: receiver.url, secret: "s", retry: RetryPolicy(attempts: 4, baseDelay: .milliseconds(100)))
        try await notifier.send(Samples.notification(.firing))
        await receiver.stop()
        let requests = receiver.received
        try #require(requests.count == 3)
        #expect(Set(requests.map(\.body)).count == 1, "every attempt sends the same body")
        #expect(Set(requests.map { $0.headers["x-wharf-signature"] ?? "" }).count == 1)
        #expect(requests[1].at - requests[0].at >= .milliseconds(100))
        #expect(requests[2].at - requests[1].at >= .milliseconds(200))
    }

    @Test("no retry after a 400; the error names the URL, the status and the answer")
    func noRetryOnClientError() async throws {
        let receiver = try await WebhookReceiver.start(answers: [.init(status: 400, body: "bad payload: missing field\nmore")])
        let notifier = WebhookNotifier(url: receiver.url, retry: RetryPolicy(attempts: 5, baseDelay: .milliseconds(10)))
        let error = try await #require(throws: WebhookError.self) { try await notifier.send(Samples.notification(.firing)) }
        await receiver.stop()
        #expect(receiver.received.count == 1)
        #expect(error.status == 400)
        #expect(error.description == "webhook \(receiver.url) answered HTTP 400 Bad Request: bad payload: missing field")
    }

    @Test("gives up after the configured attempts of 5xx")
    func givesUp() async throws {
        let receiver = try await WebhookReceiver.start(answers: Array(repeating: .init(status: 502), count: 10))
        let notifier = WebhookNotifier(url: receiver.url, retry: RetryPolicy(attempts: 3, baseDelay: .milliseconds(10)))
        let error = try await #require(throws: WebhookError.self) { try await notifier.send(Samples.notification(.firing)) }
        await receiver.stop()
        #expect(receiver.received.count == 3)
        #expect(error.attempts == 3)
        #expect(error.description == "webhook \(receiver.url) answered HTTP 502 Bad Gateway (gave up after 3 attempts)")
    }

    @Test("an unreachable receiver gives a clear error naming the URL")
    func unreachable() async throws {
        let url = "http://127.0.0.1:\(unusedPort())/hook"
        let notifier = WebhookNotifier(url: url, retry: RetryPolicy(attempts: 2, baseDelay: .milliseconds(10)))
        let started = ContinuousClock.now
        let error = try await #require(throws: WebhookError.self) { try await notifier.send(Samples.notification(.firing)) }
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(error.kind == .unreachable)
        #expect(error.description == "webhook \(url) unreachable: connection refused (gave up after 2 attempts)")
    }

    @Test("a receiver slower than the timeout counts as a failure to retry")
    func timeout() async throws {
        let receiver = try await WebhookReceiver.start(answers: [
            .init(status: 200, delay: .seconds(2)), .init(status: 200, delay: .seconds(2)), .init(status: 200),
        ])
        let notifier = WebhookNotifier(url: receiver.url, timeout: .milliseconds(300), retry: RetryPolicy(attempts: 1))
        let error = try await #require(throws: WebhookError.self) { try await notifier.send(Samples.notification(.firing)) }
        #expect(error.description == "webhook \(receiver.url) unreachable: timed out")
        let retrying = WebhookNotifier(url: receiver.url, timeout: .milliseconds(300), retry: RetryPolicy(attempts: 2, baseDelay: .milliseconds(10)))
        try await retrying.send(Samples.notification(.firing))
        #expect(receiver.received.count == 3)
        await receiver.stop()
    }

    @Test("a URL that is not http(s) is refused at once")
    func invalidURL() async throws {
        let error = try await #require(throws: WebhookError.self) {
            try await WebhookNotifier(url: "ftp://example.com/x").send(Samples.notification(.firing))
        }
        #expect(error.kind == .invalidURL)
    }

    @Test("backoff doubles up to the bound")
    func backoff() {
        let policy = RetryPolicy(attempts: 10, baseDelay: .milliseconds(100), maxDelay: .milliseconds(500))
        #expect((1...5).map(policy.delay(afterAttempt:)) == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(500), .milliseconds(500)])
    }
}
