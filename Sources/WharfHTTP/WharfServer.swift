public import Hummingbird
public import Logging
import NIOCore
import ServiceLifecycle
public import WharfRegistry
public import WharfServing

/// Builds the `wharf serve` application: both REST APIs (TF Serving and KServe V2) and the
/// repository API on one HTTP port, the repository watcher, and an orderly shutdown (the HTTP
/// server drains in-flight requests, then the models are unloaded).
public enum WharfServer {
    /// The application for `configuration`. `onServerRunning` gets the bound port (useful with port 0).
    /// With a `registry`, the models its aliases point at are served too, and the management API
    /// answers under `/registry` with `apiToken` (no token check when `nil`).
    public static func buildApplication(
        configuration: ServerConfiguration, manager: ModelManager, registry: Registry? = nil, apiToken: String? = nil,
        logger: Logger, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let watcher = RepositoryWatcher(
            scanner: configuration.scanner, manager: manager, interval: configuration.pollInterval ?? .seconds(3600),
            logger: logger)
        let registryWatcher = registry.map {
            RegistryWatcher(
                registry: $0, manager: manager, interval: configuration.registryPollInterval,
                aliases: configuration.servedAliases.map(Set.init), logger: logger)
        }
        let router = buildRouter(configuration: configuration, manager: manager, watcher: watcher)
        if let registryWatcher {
            RegistryRoutes<BasicRequestContext>(registry: registryWatcher.registry, watcher: registryWatcher, maxBodyBytes: 1 << 20)
                .register(on: router, token: apiToken)
        }
        var services: [any Service] = [ModelManagerService(manager: manager, registry: registry)]
        if configuration.pollInterval != nil, !configuration.scanner.repositories.isEmpty || !configuration.models.isEmpty {
            services.append(watcher)
        }
        if let registryWatcher { services.append(registryWatcher) }
        var app = Application(
            router: router,
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.httpPort), serverName: "wharf"),
            services: services,
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
        app.beforeServerStarts {
            await watcher.indexNow()
            await registryWatcher?.poll()
            Task { await manager.finishStartup() }
        }
        return app
    }

    /// The routes, for the application and for tests that drive the router directly.
    static func buildRouter(
        configuration: ServerConfiguration, manager: ModelManager, watcher: RepositoryWatcher
    ) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: ErrorMiddleware())
        let limits = RequestLimits(maxBytes: configuration.maxRequestBytes, maxElements: configuration.maxRequestElements)
        TFServingRoutes<BasicRequestContext>(manager: manager, limits: limits).register(on: router)
        KServeRoutes<BasicRequestContext>(manager: manager, watcher: watcher, limits: limits).register(on: router)
        return router
    }
}

/// Unloads every model when the service group shuts down (after the HTTP server has drained),
/// then closes the registry.
struct ModelManagerService: Service {
    let manager: ModelManager
    let registry: Registry?

    func run() async throws {
        try? await gracefulShutdown()
        await manager.shutdown()
        await registry?.close()
    }
}
