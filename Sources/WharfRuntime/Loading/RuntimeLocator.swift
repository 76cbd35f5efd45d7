import Foundation

/// Finds the runtime libraries: the path in `WHARF_TF_LIB` / `WHARF_ORT_LIB` when set, otherwise
/// the wheels installed in the project's `.venv` (`WHARF_VENV`, or a `.venv` in the working
/// directory, the executable's directory, or any directory above either).
public struct RuntimeLocator: Sendable {
    /// The environment the locator reads.
    public var environment: [String: String]
    /// Directories where the search for a `.venv` starts (each is searched upwards).
    public var searchRoots: [String]

    public init(
        environment: [String: String]? = nil,
        searchRoots: [String]? = nil
    ) {
        self.environment = environment ?? ProcessInfo.processInfo.environment
        self.searchRoots = searchRoots ?? RuntimeLocator.defaultSearchRoots()
    }

    /// The library path for `runtime`, or an error naming the variable and the set-up command.
    public func locate(_ runtime: RuntimeKind) throws(RuntimeError) -> String {
        if let explicit = environment[runtime.environmentVariable], !explicit.isEmpty {
            guard FileManager.default.fileExists(atPath: explicit) else {
                throw RuntimeError(
                    .libraryNotFound,
                    "\(runtime.environmentVariable) is set to \(explicit), but no file is there. \(runtime.remedy)")
            }
            return explicit
        }
        let venvs = candidateVenvs()
        for venv in venvs {
            if let found = RuntimeLocator.library(runtime, inVenv: venv) { return found }
        }
        let searched = venvs.isEmpty ? "no .venv found" : "searched " + venvs.joined(separator: ", ")
        throw RuntimeError(
            .libraryNotFound,
            "\(runtime.displayName) library not found (\(searched)). \(runtime.remedy)")
    }

    /// Virtual environments to look in, most specific first, without duplicates: `WHARF_VENV`,
    /// then every `.venv` in or above a search root. Other tools that need the project's Python
    /// (the converters) search the same places.
    public func candidateVenvs() -> [String] {
        var result: [String] = []
        if let venv = environment["WHARF_VENV"], !venv.isEmpty { result.append(venv) }
        for venv in pathsUpward(".venv") where FileManager.default.fileExists(atPath: venv) && !result.contains(venv) {
            result.append(venv)
        }
        return result
    }

    /// `relative` in every search root and every directory above it, nearest first (existing or not).
    public func pathsUpward(_ relative: String) -> [String] {
        var result: [String] = []
        for root in searchRoots {
            var directory = URL(fileURLWithPath: root).standardizedFileURL
            while true {
                result.append(directory.appendingPathComponent(relative).path)
                let parent = directory.deletingLastPathComponent()
                if parent.path == directory.path { break }
                directory = parent
            }
        }
        return result
    }

    /// The runtime's library inside a virtual environment's site-packages, if installed there.
    static func library(_ runtime: RuntimeKind, inVenv venv: String) -> String? {
        let fileManager = FileManager.default
        let lib = venv + "/lib"
        guard let pythons = try? fileManager.contentsOfDirectory(atPath: lib) else { return nil }
        for python in pythons.sorted().reversed() where python.hasPrefix("python3") {
            let sitePackages = "\(lib)/\(python)/site-packages"
            switch runtime {
            case .tensorflow:
                let path = sitePackages + "/tensorflow/libtensorflow_cc.so.2"
                if fileManager.fileExists(atPath: path) { return path }
            case .onnxruntime:
                let capi = sitePackages + "/onnxruntime/capi"
                guard let files = try? fileManager.contentsOfDirectory(atPath: capi) else { continue }
                if let file = files.sorted().first(where: { $0.hasPrefix("libonnxruntime.so") }) {
                    return capi + "/" + file
                }
            }
        }
        return nil
    }

    private static func defaultSearchRoots() -> [String] {
        var roots = [FileManager.default.currentDirectoryPath]
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath()
        roots.append(executable.deletingLastPathComponent().path)
        return roots
    }
}
