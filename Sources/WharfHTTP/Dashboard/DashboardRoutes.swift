import HTTPTypes
import Hummingbird
import NIOCore

/// The web dashboard: `GET /dashboard` answers one self-contained page (see `DashboardPage`) that
/// reads the same JSON APIs a script would (`/wharf/status`, `/wharf/alerts`,
/// `/wharf/alerts/history`, the registry's management API, `/pipeline/runs`) and draws its own
/// charts. The page makes no request to any other origin; its content security policy forbids it.
struct DashboardRoutes<Context: RequestContext> {
    func register(on router: Router<Context>) {
        router.get("dashboard") { _, _ in DashboardPage.response() }
    }
}

extension DashboardPage {
    /// The page, with headers that keep it fresh, same-origin only, and its URL (which may carry
    /// the management token) out of referrers.
    static func response() -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: "text/html; charset=utf-8",
                .cacheControl: "no-store",
                .contentSecurityPolicy: contentSecurityPolicy,
                .xContentTypeOptions: "nosniff",
                referrerPolicy: "no-referrer",
            ],
            body: ResponseBody(byteBuffer: bytes))
    }

    /// Inline script and style only; network access only to this server.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    private static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    private static let bytes = ByteBuffer(string: html)
}
