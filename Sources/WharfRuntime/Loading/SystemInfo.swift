import Foundation

/// Facts about the machine that matter for inference speed: cores, memory and the CPU's vector
/// instruction sets (the TensorFlow and ONNX Runtime wheels pick kernels by them).
public struct SystemInfo: Sendable {
    public var architecture: String
    public var cpuModel: String
    public var logicalCores: Int
    public var physicalMemoryBytes: UInt64
    /// The vector/matrix features present, of those the runtimes use (avx2, avx512f, amx, neon, ...).
    public var cpuFeatures: [String]

    /// Reads the current machine.
    public static func current() -> SystemInfo {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        var model = "unknown"
        var flags = Set<String>()
        for line in cpuinfo.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            if model == "unknown", parts[0] == "model name" || parts[0] == "Model" { model = parts[1] }
            if flags.isEmpty, parts[0] == "flags" || parts[0] == "Features" {
                flags = Set(parts[1].split(separator: " ").map(String.init))
            }
        }
        let interesting = [
            "sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16",
            "avx_vnni", "amx_tile", "amx_bf16", "amx_int8", "asimd", "asimddp", "sve", "i8mm", "bf16",
        ]
        #if arch(x86_64)
        let architecture = "x86_64"
        #elseif arch(arm64)
        let architecture = "arm64"
        #else
        let architecture = "unknown"
        #endif
        return SystemInfo(
            architecture: architecture, cpuModel: model, logicalCores: ProcessInfo.processInfo.activeProcessorCount,
            physicalMemoryBytes: ProcessInfo.processInfo.physicalMemory,
            cpuFeatures: interesting.filter { flags.contains($0) })
    }

    /// The thread settings Wharf uses when a model's config sets none: all cores inside an
    /// operation, and operations run one after another (what suits small serving graphs).
    public var defaultThreads: (intraOp: Int, interOp: Int) { (max(logicalCores, 1), 1) }
}

/// The resident set size of this process in bytes, from /proc/self/statm.
public func residentMemoryBytes() -> Int {
    guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = statm.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}
