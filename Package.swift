// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Wharf",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "wharf", targets: ["wharf"]),
        .library(name: "WharfCore", targets: ["WharfCore"]),
        .library(name: "WharfRuntime", targets: ["WharfRuntime"]),
        .library(name: "WharfProtocols", targets: ["WharfProtocols"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // Our own declarations of the TensorFlow C API and ONNX Runtime C API pieces we call.
        // Our declarations of the runtimes' C ABIs (they are opened with dlopen at run time, so
        // nothing links against them) and one thread-naming helper that needs a GNU extension.
        .target(name: "CWharfRuntimeABI"),
        .target(name: "WharfCore"),
        .target(
            name: "WharfRuntime",
            dependencies: [
                "CWharfRuntimeABI",
                "WharfCore",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "WharfProtocols", dependencies: ["WharfCore"]),
        .target(
            name: "WharfServing",
            dependencies: [
                "CWharfRuntimeABI",
                "WharfCore",
                "WharfRuntime",
                "WharfProtocols",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "WharfRegistry",
            dependencies: [
                "WharfCore",
                "WharfRuntime",
                "WharfProtocols",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "WharfMonitoring",
            dependencies: [
                "WharfCore",
                "WharfRuntime",
                "WharfServing",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "WharfPipeline",
            dependencies: [
                "WharfCore",
                "WharfRuntime",
                "WharfServing",
                "WharfRegistry",
                "WharfMonitoring",
                "WharfHTTP",
                "WharfBench",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "WharfHTTP",
            dependencies: [
                "WharfCore",
                "WharfRuntime",
                "WharfServing",
                "WharfProtocols",
                "WharfRegistry",
                "WharfMonitoring",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "WharfBench",
            dependencies: [
                "WharfCore",
                "WharfProtocols",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "wharf",
            dependencies: [
                "WharfCore",
                "WharfRuntime",
                "WharfProtocols",
                "WharfServing",
                "WharfHTTP",
                "WharfBench",
                "WharfRegistry",
                "WharfMonitoring",
                "WharfPipeline",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "wharf-rawbench",
            dependencies: ["WharfCore", "WharfRuntime"],
            path: "Benchmarks/RawLatency"
        ),
        .target(
            name: "WharfTesting",
            dependencies: [
                "WharfCore", "WharfRuntime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/WharfTesting"
        ),
        .testTarget(name: "WharfCoreTests", dependencies: ["WharfCore", "WharfTesting"]),
        .testTarget(name: "WharfProtocolsTests", dependencies: ["WharfProtocols", "WharfCore", "WharfTesting"]),
        .testTarget(name: "WharfRuntimeTests", dependencies: ["WharfRuntime", "WharfCore", "CWharfRuntimeABI", "WharfTesting"]),
        .testTarget(name: "WharfCLITests", dependencies: ["WharfTesting"]),
        .testTarget(
            name: "WharfHTTPTests",
            dependencies: [
                "WharfHTTP", "WharfServing", "WharfRuntime", "WharfCore", "WharfProtocols", "WharfTesting", "WharfRegistry",
                "WharfMonitoring", "WharfBench", "WharfPipeline",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "WharfBenchTests",
            dependencies: [
                "WharfBench", "WharfHTTP", "WharfServing", "WharfCore", "WharfTesting",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "WharfRegistryTests", dependencies: ["WharfRegistry", "WharfCore", "WharfTesting"]),
        .testTarget(
            name: "WharfMonitoringTests",
            dependencies: [
                "WharfMonitoring", "WharfServing", "WharfCore", "WharfTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "WharfPipelineTests", dependencies: ["WharfPipeline", "WharfCore", "WharfRuntime", "WharfServing", "WharfTesting"]),
        .testTarget(name: "WharfServingTests", dependencies: ["WharfServing", "WharfRuntime", "WharfCore", "WharfTesting"]),
    ]
)

for target in package.targets where target.name != "CWharfRuntimeABI" {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    target.swiftSettings = settings
}
