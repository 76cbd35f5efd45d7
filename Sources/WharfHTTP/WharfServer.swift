public import Hummingbird
public import Logging
import NIOCore
import NIOPosix
import Synchronization
import Foundation
import ServiceLifecycle
import WharfMonitoring
public import WharfRegistry
public import WharfServing

/// Builds the `wharf serve` application: both REST APIs (TF Serving and KServe V2), the
/// repository API and, with metrics on, monitoring and the `/dashboard` page, all on one HTTP
/// port; the repository watcher; and an orderly shutdown (the HTTP server drains in-flight
/// requests, then the models are unloaded).
public enum WharfServer {
    /// Event loop groups of a given size, made once per process and kept for its life (like
    /// SwiftNIO's own singleton group), so that servers started one after another share them.
    private static let eventLoopGroups = Mutex<[Int: MultiThreadedEventLoopGroup]>([:])

    /// The process's event loop group of `threads` threads (named `NIO-ELT-…` by SwiftNIO).
    static func eventLoopGroup(threads: Int) -> MultiThreadedEventLoopGroup {
        eventLoopGroups.withLock { groups in
            if let group = groups[threads] { return group }
            let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
            groups[threads] = group
            return group
        }
    }

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
        let monitor = configuration.metricsEnabled ? ServingMonitor(windows: configuration.monitoringWindows) : nil
        let notifiers = configuration.alerts.receivers.makeNotifiers()
        let dispatcher = monitor != nil && !notifiers.isEmpty ? NotificationDispatcher(notifiers: notifiers, logger: logger) : nil
        let engine = monitor.map { monitor in
            AlertEngine(
                monitor: monitor, rules: configuration.alerts.ruleSet,
                hooks: alertHooks(
                    configuration: configuration, registry: registry, registryWatcher: registryWatcher, dispatcher: dispatcher, logger: logger),
                logger: logger)
        }
        let router = buildRouter(configuration: configuration, manager: manager, watcher: watcher, observer: monitor)
        if let registryWatcher {
            let routes = RegistryRoutes<BasicRequestContext>(registry: registryWatcher.registry, watcher: registryWatcher, maxBodyBytes: 1 << 20)
            routes.register(on: router, token: apiToken)
            routes.registerRuns(on: router)
        }
        if let monitor {
            MonitoringRoutes<BasicRequestContext>(monitor: monitor, engine: engine, manager: manager, registry: registry, dispatcher: dispatcher)
                .register(on: router)
            DashboardRoutes<BasicRequestContext>().register(on: router)
        }
        var services: [any Service] = [ModelManagerService(manager: manager, registry: registry)]
        if let dispatcher { services.append(dispatcher) }
        if let engine { services.append(engine) }
        if let engine, let path = configuration.alertRulesFile {
            let ruleWatcher = AlertRuleWatcher(path: path, engine: engine)
            if let text = configuration.alertRulesText { ruleWatcher.markLoaded(text) }
            services.append(ruleWatcher)
        }
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
            eventLoopGroupProvider: configuration.httpThreads.map { .shared(eventLoopGroup(threads: $0)) } ?? .singleton,
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
        configuration: ServerConfiguration, manager: ModelManager, watcher: RepositoryWatcher, observer: (any InferenceObserver)? = nil
    ) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: ErrorMiddleware())
        let limits = RequestLimits(maxBytes: configuration.maxRequestBytes, maxElements: configuration.maxRequestElements)
        TFServingRoutes<BasicRequestContext>(manager: manager, limits: limits, observer: observer).register(on: router)
        KServeRoutes<BasicRequestContext>(manager: manager, watcher: watcher, limits: limits, observer: observer).register(on: router)
        return router
    }
}

/// What alerts do besides showing up in the API: history in the registry's database, and the
/// rollback action through the registry (applied to serving at once).
func alertHooks(
    configuration: ServerConfiguration, registry: Registry?, registryWatcher: RegistryWatcher?, dispatcher: NotificationDispatcher?, logger: Logger
) -> AlertHooks {
    let receiver = configuration.alerts.receivers.name
    let externalURL = "http://\(configuration.host):\(configuration.httpPort)/dashboard"
    return AlertHooks(
        notify: { alert in dispatcher?.dispatch(alert.notification(receiver: receiver, externalURL: externalURL)) },
        record: { event in
            guard let registry, let payload = try? JSONCoding.encode(event) else { return }
            do {
                try await registry.store.recordAlertEvent(.init(
                    kind: event.kind.rawValue, rule: event.rule, model: event.model, version: event.version, at: event.at, payload: payload))
            } catch {
                logger.error("cannot keep the alert in the registry's history", metadata: ["error": "\(error)"])
            }
        },
        act: { action, alert in
            switch action {
            case .rollback(let alias):
                guard let registry, let model = alert.model else { return "not rolled back: the server serves no registry" }
                do {
                    guard let current = try await registry.store.aliases(of: model).first(where: { $0.alias == alias }) else {
                        return "not rolled back: model '\(model)' has no alias '\(alias)'"
                    }
                    guard alert.version == nil || alert.version == current.version else {
                        return "not rolled back: \(alias) points at version \(current.version), the alert is on version \(alert.version!)"
                    }
                    let event = try await registry.rollback(
                        model: model, alias: alias, actor: "wharf-alerts",
                        reason: "alert \(alert.rule): \(alert.annotations["summary"] ?? "")")
                    await registryWatcher?.poll()
                    return "rolled back \(alias) \(event.fromVersion.map(String.init) ?? "-") → \(event.toVersion.map(String.init) ?? "-")"
                } catch {
                    logger.error("alert rollback failed", metadata: ["alert": "\(alert.rule)", "error": "\(error)"])
                    return "not rolled back: \(error)"
                }
            }
        })
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
