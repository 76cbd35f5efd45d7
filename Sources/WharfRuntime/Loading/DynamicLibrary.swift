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

    init(path: String, runtime: RuntimeKind) throws(RuntimeError) {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
            throw RuntimeError(
                .libraryInvalid,
                "cannot open the \(runtime.displayName) library at \(path): \(reason). \(runtime.remedy)")
        }
        self.path = path
        self.handle = handle
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
