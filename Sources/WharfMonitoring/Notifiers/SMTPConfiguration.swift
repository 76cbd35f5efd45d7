/// Where and how the ``EmailNotifier`` submits mail.
public struct SMTPConfiguration: Sendable, Hashable {
    /// How the connection is protected.
    public enum Security: Sendable, Hashable {
        /// Plain text all the way (a relay on the same host or network).
        case none
        /// Plain connection upgraded with the STARTTLS command before anything else (port 587);
        /// fails if the server does not offer STARTTLS.
        case startTLS
        /// TLS from the first byte ("implicit TLS", SMTPS, port 465).
        case tls
    }

    /// Which certificates the client accepts from the server.
    public enum CertificateVerification: Sendable, Hashable {
        /// The system's trusted roots, and the name (or IP address) must match: the default.
        case system
        /// Only chains that end at a certificate of this PEM file (a private CA or a self-signed
        /// server certificate), and the name must match.
        case trustCAFile(String)
        /// No verification at all. For tests only: anyone on the path can read the mail and the
        /// password.
        case skip
    }

    /// How to log in, when the server needs it.
    public enum AuthMechanism: Sendable, Hashable {
        /// Whichever the server offers, preferring PLAIN over LOGIN.
        case automatic
        /// AUTH PLAIN (RFC 4616).
        case plain
        /// AUTH LOGIN.
        case login
    }

    /// The server's host name or IP address.
    public var host: String
    /// The server's port (25, 587 with STARTTLS, 465 with implicit TLS).
    public var port: Int
    /// How the connection is protected.
    public var security: Security
    /// Which server certificates are accepted (when `security` is not `.none`).
    public var certificateVerification: CertificateVerification
    /// The login name; no AUTH when `nil`.
    public var username: String?
    /// The password that goes with `username`.
    public var password: String?
    /// How to log in.
    public var authMechanism: AuthMechanism
    /// The sender: an address (`wharf@example.com`), or a name and an address
    /// (`Wharf <wharf@example.com>`).
    public var from: String
    /// The recipients' addresses.
    public var to: [String]
    /// The limit on connecting and on each answer of the server.
    public var timeout: Duration
    /// The name the client gives in EHLO.
    public var clientName: String

    /// An SMTP configuration.
    public init(
        host: String,
        port: Int = 25,
        security: Security = .none,
        certificateVerification: CertificateVerification = .system,
        username: String? = nil,
        password: String? = nil,
        authMechanism: AuthMechanism = .automatic,
        from: String,
        to: [String],
        timeout: Duration = .seconds(30),
        clientName: String = "wharf.localdomain"
    ) {
        self.host = host
        self.port = port
        self.security = security
        self.certificateVerification = certificateVerification
        self.username = username
        self.password = password
        self.authMechanism = authMechanism
        self.from = from
        self.to = to
        self.timeout = timeout
        self.clientName = clientName
    }

    /// `host:port`, for messages (`[::1]:25` for IPv6 addresses).
    public var endpoint: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
