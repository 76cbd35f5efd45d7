import ArgumentParser
import Foundation
import WharfRuntime

/// `wharf doctor`: which runtimes Wharf finds, their versions, and the machine's CPU.
struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the runtimes Wharf finds, their versions, CPU features and thread defaults.")

    func run() throws {
        let system = SystemInfo.current()
        print("Machine")
        print("  cpu:           \(system.cpuModel) (\(system.architecture))")
        print("  cores:         \(system.logicalCores)")
        print("  memory:        \(system.physicalMemoryBytes / (1 << 20)) MiB")
        print("  cpu features:  \(system.cpuFeatures.isEmpty ? "none of note" : system.cpuFeatures.joined(separator: " "))")
        let threads = system.defaultThreads
        print("  threads:       intra-op \(threads.intraOp), inter-op \(threads.interOp) (defaults for a model without settings)")
        print("")
        print("Runtimes")
        let loader = ModelLoader()
        var missing: [String] = []
        for runtime in RuntimeKind.allCases {
            do {
                let (version, path) = try loader.runtimeVersion(runtime)
                print("  \(runtime.displayName.padding(toLength: 14, withPad: " ", startingAt: 0)) \(version)  \(path)")
            } catch {
                print("  \(runtime.displayName.padding(toLength: 14, withPad: " ", startingAt: 0)) MISSING: \(error)")
                missing.append(runtime.displayName)
            }
        }
        if !missing.isEmpty {
            throw ExitCode(1)
        }
    }
}
