import Foundation
import Testing
import WharfTesting
import WharfMonitoring

@Suite("Email notifier, against a real SMTP server (aiosmtpd) on loopback", .serialized, .enabled(if: SMTPSink.available, "needs .venv with aiosmtpd (scripts/bootstrap)"))
struct EmailNotifierTests {
    static let from = "Wharf Alerts <wharf@example.com>"
    static let recipients = ["oncall@example.com", "ml-team@example.com"]

    func configuration(_ sink: SMTPSink, security: SMTPConfiguration.Security = .none, username: String? = nil, password: String? = nil)
        -> SMTPConfiguration
    {
        SMTPConfiguration(
            host: "127.0.0.1", port: sink.port, security: security,
            certificateVerification: security == .none ? .system : .trustCAFile(sink.certificate),
            username: username, password: password, from: Self.from, to: Self.recipients, timeout: .seconds(10))
    }

    @Test("plain SMTP: firing and resolved mails with subject, headers, labels and annotations")
    func plain() async throws {
        let sink = try await SMTPSink.start()
        defer { sink.stop() }
        let notifier = EmailNotifier(configuration: configuration(sink))
        try await notifier.send(Samples.notification(.firing))
        try await notifier.send(Samples.notification(.resolved))

        let messages = try sink.messages()
        try #require(messages.count == 2)
        let firing = messages[0], resolved = messages[1]
        #expect(firing.from == "wharf@example.com")
        #expect(firing.recipients == Self.recipients)
        #expect(!firing.tls && !firing.authenticated)
        #expect(firing.header("Subject") == "[FIRING] HighErrorRate model=mlp version=3")
        #expect(firing.header("From") == Self.from)
        #expect(firing.header("To") == "oncall@example.com, ml-team@example.com")
        #expect(firing.header("MIME-Version") == "1.0")
        #expect(firing.header("Content-Type") == "text/plain; charset=utf-8")
        #expect(firing.header("Message-ID")?.hasSuffix("@example.com>") == true)
        let date = try #require(firing.header("Date"))
        #expect(date.range(of: #"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$"#, options: .regularExpression) != nil, "\(date)")

        let body = firing.body
        for line in [
            "[FIRING] HighErrorRate",
            "  Summary:     Error rate above 5% for mlp v3",
            "  Description: 5.2% of requests failed over the last 5 minutes.",
            "  Started:     2025-11-25 12:00:00 UTC",
            "    model = mlp", "    version = 3", "    severity = critical", "    alertname = HighErrorRate",
            "    runbook_url = https://runbooks.example.com/high-error-rate",
            "  Source:      http://wharf.local:8080/monitoring/rules/HighErrorRate",
        ] {
            #expect(body.contains(line + "\r\n"), "no '\(line)' in:\n\(body)")
        }
        #expect(!body.contains("Ended:"))

        #expect(resolved.header("Subject") == "[RESOLVED] HighErrorRate model=mlp version=3")
        #expect(resolved.body.contains("  Ended:       2025-11-25 12:10:00 UTC\r\n"))
        #expect(resolved.header("Message-ID") != firing.header("Message-ID"))
    }

    @Test("STARTTLS with the server's certificate trusted, then AUTH PLAIN")
    func startTLSWithAuth() async throws {
        try #require(SMTPSink.tlsAvailable, "needs openssl")
        let sink = try await SMTPSink.start(["--starttls", "--user", "alice", "--password", "s3cret!"])
        defer { sink.stop() }
        let notifier = EmailNotifier(configuration: configuration(sink, security: .startTLS, username: "alice", password: "s3cret!"))
        try await notifier.send(Samples.notification(.firing, alerts: [Samples.alert(.firing), Samples.alert(.firing, model: "cnn")]))
        let messages = try sink.messages()
        try #require(messages.count == 1)
        #expect(messages[0].tls)
        #expect(messages[0].authenticated)
        #expect(messages[0].login == "alice")
        #expect(messages[0].header("Subject") == "[FIRING:2] HighErrorRate model=mlp version=3")
        #expect(messages[0].body.contains("    model = cnn\r\n"))
    }

    @Test("AUTH LOGIN over implicit TLS")
    func implicitTLSWithLogin() async throws {
        try #require(SMTPSink.tlsAvailable, "needs openssl")
        let sink = try await SMTPSink.start(["--tls", "--user", "bob", "--password", "pw"])
        defer { sink.stop() }
        var configuration = configuration(sink, security: .tls, username: "bob", password: "pw")
        configuration.authMechanism = .login
        try await EmailNotifier(configuration: configuration).send(Samples.notification(.resolved))
        let messages = try sink.messages()
        try #require(messages.count == 1)
        #expect(messages[0].tls && messages[0].authenticated && messages[0].login == "bob")
    }

    @Test("a wrong password: the error names the server and its 535 reply")
    func wrongPassword() async throws {
        try #require(SMTPSink.tlsAvailable, "needs openssl")
        let sink = try await SMTPSink.start(["--starttls", "--user", "alice", "--password", "right"])
        defer { sink.stop() }
        let notifier = EmailNotifier(configuration: configuration(sink, security: .startTLS, username: "alice", password: "wrong"))
        let error = try await #require(throws: SMTPError.self) { try await notifier.send(Samples.notification(.firing)) }
        #expect(error.kind == .rejected)
        #expect(error.reply?.code == 535)
        #expect(error.description == "SMTP server 127.0.0.1:\(sink.port) rejected AUTH: 535 5.7.8 Authentication credentials invalid")
        #expect(try sink.messages().isEmpty)
    }

    @Test("an untrusted certificate fails the TLS handshake under default verification")
    func untrustedCertificate() async throws {
        try #require(SMTPSink.tlsAvailable, "needs openssl")
        let sink = try await SMTPSink.start(["--starttls"])
        defer { sink.stop() }
        var configuration = configuration(sink, security: .startTLS)
        configuration.certificateVerification = .system
        let error = try await #require(throws: SMTPError.self) { try await EmailNotifier(configuration: configuration).send(Samples.notification(.firing)) }
        #expect(error.kind == .tlsFailed)
        #expect(error.description.hasPrefix("TLS with SMTP server 127.0.0.1:\(sink.port) failed: "))

        configuration.certificateVerification = .skip
        try await EmailNotifier(configuration: configuration).send(Samples.notification(.firing))
        #expect(try sink.messages().count == 1)
    }

    @Test("a server that wants STARTTLS first refuses plain AUTH with a clear error")
    func authNeedsTLS() async throws {
        try #require(SMTPSink.tlsAvailable, "needs openssl")
        let sink = try await SMTPSink.start(["--starttls", "--user", "alice", "--password", "x"])
        defer { sink.stop() }
        let notifier = EmailNotifier(configuration: configuration(sink, security: .none, username: "alice", password: "x"))
        let error = try await #require(throws: SMTPError.self) { try await notifier.send(Samples.notification(.firing)) }
        #expect(error.kind == .unsupported)
        #expect(error.description == "SMTP server 127.0.0.1:\(sink.port) does not offer AUTH before STARTTLS (set security to .startTLS)")
    }

    @Test("a server that never answers times out")
    func silentServer() async throws {
        let sink = try await SMTPSink.start(["--silent"])
        defer { sink.stop() }
        let notifier = EmailNotifier(configuration: SMTPConfiguration(
            host: "127.0.0.1", port: sink.port, from: "w@example.com", to: ["x@example.com"], timeout: .milliseconds(500)))
        let started = ContinuousClock.now
        let error = try await #require(throws: SMTPError.self) { try await notifier.send(Samples.notification(.firing)) }
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(error.kind == .timedOut)
        #expect(error.description == "SMTP server 127.0.0.1:\(sink.port) did not answer the greeting within 0.5 seconds")
    }

    @Test("dot-stuffing: lines that start with a dot arrive unchanged")
    func dotStuffing() async throws {
        let sink = try await SMTPSink.start()
        defer { sink.stop() }
        let client = SMTPClient(configuration: configuration(sink))
        let message = "Subject: dots\r\n\r\n.\r\n..two\r\n.x\nbare LF line\n. end"
        try await client.send(message: message, from: "wharf@example.com", to: ["a@example.com"])
        let received = try #require(try sink.messages().first)
        #expect(received.content == "Subject: dots\r\n\r\n.\r\n..two\r\n.x\r\nbare LF line\r\n. end\r\n")
    }

    @Test("non-ASCII labels: encoded subject and quoted-printable body")
    func unicode() async throws {
        let sink = try await SMTPSink.start()
        defer { sink.stop() }
        var alert = Samples.alert(.firing, model: "détecteur")
        alert.annotations["summary"] = "Taux d'erreur élevé"
        let notification = AlertNotification(receiver: "oncall", alerts: [alert], groupLabels: ["alertname": "HighErrorRate", "model": "détecteur"])
        try await EmailNotifier(configuration: configuration(sink)).send(notification)
        let received = try #require(try sink.messages().first)
        let subject = try #require(received.header("Subject"))
        #expect(subject.hasPrefix("=?UTF-8?B?"))
        // Encoded words (=?UTF-8?B?...?=), folded onto continuation lines.
        let decoded = subject.split(separator: " ").compactMap { Data(base64Encoded: String($0.dropFirst(10).dropLast(2))) }.reduce(Data(), +)
        #expect(String(decoding: decoded, as: UTF8.self) == "[FIRING] HighErrorRate model=détecteur")
        #expect(received.header("Content-Transfer-Encoding") == "quoted-printable")
        #expect(received.body.contains("Taux d'erreur =C3=A9lev=C3=A9"))
    }
}

@Suite("Email notifier without a server")
struct EmailCompositionTests {
    @Test("no server listening: the error names host:port")
    func notListening() async throws {
        let port = unusedPort()
        let notifier = EmailNotifier(configuration: SMTPConfiguration(host: "127.0.0.1", port: port, from: "w@example.com", to: ["x@example.com"]))
        let error = try await #require(throws: SMTPError.self) { try await notifier.send(Samples.notification(.firing)) }
        #expect(error.kind == .connectionFailed)
        #expect(error.description == "could not connect to SMTP server 127.0.0.1:\(port): connection refused")
    }

    @Test("addresses with line breaks or brackets are refused before connecting")
    func badAddress() async throws {
        let client = SMTPClient(configuration: SMTPConfiguration(host: "127.0.0.1", port: unusedPort(), from: "w@example.com", to: []))
        let error = try await #require(throws: SMTPError.self) {
            try await client.send(message: "Subject: x\r\n\r\nx", from: "w@example.com", to: ["a@example.com>\r\nDATA"])
        }
        #expect(error.kind == .invalidConfiguration)
    }

    @Test("the message: CRLF only, headers, subject for several alerts")
    func message() throws {
        let notification = Samples.notification(.firing, alerts: [Samples.alert(.firing), Samples.alert(.firing, model: "cnn"), Samples.alert(.resolved)])
        #expect(EmailNotifier.subject(for: notification) == "[FIRING:2] HighErrorRate model=mlp version=3")
        let resolved = AlertNotification(receiver: "r", alerts: [Samples.alert(.resolved)])
        #expect(EmailNotifier.subject(for: resolved) == "[RESOLVED] HighErrorRate model=mlp severity=critical version=3")

        let text = EmailNotifier.message(
            for: notification, from: "Wharf <w@example.com>", to: ["a@example.com"], date: Date(timeIntervalSince1970: 1_764_072_000))
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\r"))
        #expect(text.contains("\r\nDate: Tue, 25 Nov 2025 12:00:00 +0000\r\n"))
        #expect(text.contains("\r\nContent-Transfer-Encoding: 7bit\r\n"))
        #expect(text.contains("\r\n\r\nAlerts: 2 firing, 1 resolved (receiver oncall)\r\n"))
        #expect(text.contains("== Firing ==") && text.contains("== Resolved =="))
    }

    @Test("quoted-printable keeps lines within 76 characters")
    func quotedPrintableLines() {
        var alert = Samples.alert(.firing)
        alert.annotations["description"] = String(repeating: "Überlast ", count: 40)
        let text = EmailNotifier.message(for: AlertNotification(receiver: "r", alerts: [alert]), from: "w@example.com", to: ["a@example.com"])
        let body = text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        #expect(text.contains("Content-Transfer-Encoding: quoted-printable"))
        #expect(body.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 76 })
        #expect(body.contains("=C3=9Cberlast"))
    }
}
