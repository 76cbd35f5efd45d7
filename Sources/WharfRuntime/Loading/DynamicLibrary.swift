#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A shared library opened with `dlopen(RTLD_NOW | RTLD_LOCAL)` and its symbols.
///
/// Runtime libraries are never closed: TensorFlow and ONNX Runtime register process-wide state
/// (op registries, thread pools) that does not survive `dlclose`.
final class DynamicLibrary: @unchecked Sendable {
    // @unchecked Sendable: `handle` is immutable after init and dlsym is thread-safe.

    let path: String
    private let handle: UnsafeMutableRawPointer

    /// Opens `path`. Lines the library prints on stderr while it initializes and that contain one
    /// of `quietLines` are dropped (TensorFlow prints start-up banners no log level silences);
    /// everything else it prints is passed on.
    init(path: String, runtime: RuntimeKind, quietLines: [String] = []) throws(RuntimeError) {
        let opened = quietLines.isEmpty
            ? dlopen(path, RTLD_NOW | RTLD_LOCAL)
            : DynamicLibrary.filteringStandardError(dropping: quietLines) { dlopen(path, RTLD_NOW | RTLD_LOCAL) }
        guard let handle = opened else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
            throw RuntimeError(
                .libraryInvalid,
                "cannot open the \(runtime.displayName) library at \(path): \(reason). \(runtime.remedy)")
        }
        self.path = path
        self.handle = handle
    }

    /// Runs `body` with stderr sent to a temporary file, then writes the captured lines back to
    /// stderr except those containing one of `dropping`.
    private static func filteringStandardError<Result>(dropping: [String], _ body: () -> Result) -> Result {
        fflush(nil)
        let saved = dup(STDERR_FILENO)
        guard saved >= 0, let capture = tmpfile() else { return body() }
        defer { fclose(capture) }
        dup2(fileno(capture), STDERR_FILENO)
        let result = body()
        fflush(nil)
        dup2(saved, STDERR_FILENO)
        close(saved)
        rewind(capture)
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, capture) > 0, let line {
            let text = String(cString: line)
            if !dropping.contains(where: { text.contains($0) }) {
                _ = text.utf8CString.withUnsafeBufferPointer { write(STDERR_FILENO, $0.baseAddress, $0.count - 1) }
            }
        }
        return result
    }

    /// The address of `name` as a C function of type `Function`.
    func function<Function>(_ name: String, as type: Function.Type, runtime: RuntimeKind) throws(RuntimeError) -> Function {
        guard let address = dlsym(handle, name) else {
            throw RuntimeError(
                .libraryInvalid,
                "\(path) does not export \(name): it is not a \(runtime.displayName) library Wharf can use. \(runtime.remedy)")
        }
        return unsafeBitCast(address, to: type)
    }
}

/// A Swift string from a C string a runtime returned; empty for a null pointer.
func stringFromC(_ pointer: UnsafePointer<CChar>?) -> String {
    pointer.map { String(cString: $0) } ?? ""
}
