import CWharfRuntimeABI
import Foundation
import Synchronization
import WharfCore

/// Slots of the ONNX Runtime API table (`OrtApi`) Wharf calls, counted from 0 in declaration
/// order. Slots never move between releases; new functions are only appended.
enum ORTSlot: Int {
    case getErrorCode = 1, getErrorMessage = 2, createEnv = 3, disableTelemetryEvents = 6, createSession = 7
    case run = 9, createSessionOptions = 10, setSessionExecutionMode = 13, setSessionLogSeverityLevel = 22
    case setSessionGraphOptimizationLevel = 23, setIntraOpNumThreads = 24, setInterOpNumThreads = 25
    case sessionGetInputCount = 30, sessionGetOutputCount = 31
    case sessionGetInputTypeInfo = 33, sessionGetOutputTypeInfo = 34
    case sessionGetInputName = 36, sessionGetOutputName = 37
    case createTensorAsOrtValue = 48, createTensorWithDataAsOrtValue = 49
    case getTensorMutableData = 51, fillStringTensor = 52
    case getStringTensorDataLength = 53, getStringTensorContent = 54
    case castTypeInfoToTensorInfo = 55, getOnnxTypeFromTypeInfo = 56
    case getTensorElementType = 60, getDimensionsCount = 61, getDimensions = 62
    case getTensorTypeAndShape = 65, createCpuMemoryInfo = 69
    case allocatorFree = 76, getAllocatorWithDefaultOptions = 78
    case releaseEnv = 92, releaseStatus = 93, releaseMemoryInfo = 94, releaseSession = 95, releaseValue = 96
    case releaseTypeInfo = 98, releaseTensorTypeAndShapeInfo = 99, releaseSessionOptions = 100
    case sessionGetModelMetadata = 111, modelMetadataGetProducerName = 112, modelMetadataGetGraphName = 113
    case modelMetadataGetDomain = 114, modelMetadataGetDescription = 115, modelMetadataGetVersion = 117
    case releaseModelMetadata = 118, addSessionConfigEntry = 130
}

/// ONNX Runtime opened from `libonnxruntime.so`: the API table, one process-wide environment,
/// the CPU memory description and the default allocator. One instance per process.
final class ONNXRuntimeLibrary: @unchecked Sendable {
    // @unchecked Sendable: all stored properties are immutable after init; ORT's environment,
    // memory info and default allocator are documented safe to share between threads.

    /// The API version Wharf's slot numbers are checked against (ONNX Runtime 1.20).
    static let apiVersion: UInt32 = 20

    let path: String
    let version: String
    private let api: ORTAPI
    let environment: OpaquePointer
    let cpuMemory: OpaquePointer
    let allocator: OpaquePointer

    private init(path: String) throws(RuntimeError) {
        let library = try DynamicLibrary(path: path, runtime: .onnxruntime)
        let getBase: wharf_ort_get_api_base_fn = try library.function(
            "OrtGetApiBase", as: wharf_ort_get_api_base_fn.self, runtime: .onnxruntime)
        guard let base = getBase() else {
            throw RuntimeError(.libraryInvalid, "OrtGetApiBase returned nothing in \(path). \(RuntimeKind.onnxruntime.remedy)")
        }
        let version = stringFromC(base.pointee.get_version_string())
        guard let api = base.pointee.get_api(ONNXRuntimeLibrary.apiVersion) else {
            throw RuntimeError(
                .libraryInvalid,
                "ONNX Runtime \(version) at \(path) does not offer API version \(ONNXRuntimeLibrary.apiVersion) (ONNX Runtime 1.20 or newer is needed). \(RuntimeKind.onnxruntime.remedy)")
        }
        self.path = path
        self.version = version
        let table = ORTAPI(table: UnsafeRawPointer(api).assumingMemoryBound(to: UnsafeRawPointer?.self))
        self.api = table

        var environment: OpaquePointer?
        var cpuMemory: OpaquePointer?
        var allocator: OpaquePointer?
        do {
            let createEnv = table.function(.createEnv, wharf_ort_create_env_fn.self)
            // Log level 3 (ERROR): ORT's warnings about unused initializers would flood a server's log.
            try table.check(createEnv(3, "wharf", &environment), "creating the ONNX Runtime environment")
            _ = table.function(.disableTelemetryEvents, wharf_ort_env_call_fn.self)(environment)
            let createMemory = table.function(.createCpuMemoryInfo, wharf_ort_create_cpu_memory_info_fn.self)
            // OrtArenaAllocator (1), OrtMemTypeDefault (0).
            try table.check(createMemory(1, 0, &cpuMemory), "describing CPU memory")
            let getAllocator = table.function(.getAllocatorWithDefaultOptions, wharf_ort_get_allocator_with_default_options_fn.self)
            try table.check(getAllocator(&allocator), "getting the default allocator")
        } catch let error as RuntimeError {
            throw error
        } catch {
            throw RuntimeError(.libraryInvalid, "ONNX Runtime failed to start", cause: error)
        }
        self.environment = environment!
        self.cpuMemory = cpuMemory!
        self.allocator = allocator!
    }

    private static let loaded = Mutex<[String: ONNXRuntimeLibrary]>([:])

    /// The process's ONNX Runtime, opened on first use from where `locator` finds it.
    static func shared(locator: RuntimeLocator) throws(RuntimeError) -> ONNXRuntimeLibrary {
        let path = try locator.locate(.onnxruntime)
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        return try loaded.withLock { (libraries: inout [String: ONNXRuntimeLibrary]) throws(RuntimeError) -> ONNXRuntimeLibrary in
            if let library = libraries[resolved] { return library }
            let library = try ONNXRuntimeLibrary(path: resolved)
            libraries[resolved] = library
            return library
        }
    }

    /// The function in `slot`, as a C function of type `Function`.
    func function<Function>(_ slot: ORTSlot, _ type: Function.Type) -> Function { api.function(slot, type) }

    /// Frees `object` with the Release function in `slot`.
    func release(_ slot: ORTSlot, _ object: OpaquePointer?) { api.release(slot, object) }

    /// Turns a returned OrtStatus into an error (and frees it); `nil` means success.
    func check(
        _ status: OpaquePointer?, _ action: @autoclosure () -> String,
        makeError: ((StatusCode, String) -> any Error)? = nil
    ) throws {
        try api.check(status, action(), makeError: makeError)
    }

    /// Copies and frees a string ORT allocated with the default allocator.
    func takeString(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
        guard let pointer else { return "" }
        let result = String(cString: pointer)
        _ = function(.allocatorFree, wharf_ort_allocator_free_fn.self)(allocator, pointer)
        return result
    }

    /// ORT error codes (OrtErrorCode) mapped to canonical codes.
    static func statusCode(ortCode: Int32) -> StatusCode {
        switch ortCode {
        case 2: .invalidArgument  // ORT_INVALID_ARGUMENT
        case 3, 4, 14: .notFound  // NO_SUCHFILE, NO_MODEL, NOT_FOUND
        case 7, 10: .dataLoss  // INVALID_PROTOBUF, INVALID_GRAPH
        case 9: .unimplemented  // NOT_IMPLEMENTED
        default: .internal
        }
    }

    /// ONNX element type numbers (ONNXTensorElementDataType) for Wharf's types.
    static func elementType(for dtype: DataType) -> Int32 {
        switch dtype {
        case .float32: 1
        case .uint8: 2
        case .int8: 3
        case .uint16: 4
        case .int16: 5
        case .int32: 6
        case .int64: 7
        case .string: 8
        case .bool: 9
        case .float16: 10
        case .float64: 11
        case .uint32: 12
        case .uint64: 13
        }
    }

    /// The Wharf type of an ONNX element type; `nil` for types Wharf does not serve.
    static func dataType(elementType: Int32) -> DataType? {
        DataType.allCases.first { ONNXRuntimeLibrary.elementType(for: $0) == elementType }
    }
}

/// The API table of ONNX Runtime: typed access to its slots.
struct ORTAPI: @unchecked Sendable {
    // @unchecked Sendable: the table is immutable memory owned by the runtime for the life of
    // the process.
    let table: UnsafePointer<UnsafeRawPointer?>

    /// The function in `slot`, as a C function of type `Function`.
    func function<Function>(_ slot: ORTSlot, _ type: Function.Type) -> Function {
        unsafeBitCast(table[slot.rawValue]!, to: type)
    }

    /// Frees `object` with the Release function in `slot`.
    func release(_ slot: ORTSlot, _ object: OpaquePointer?) {
        guard let object else { return }
        function(slot, wharf_ort_release_fn.self)(UnsafeMutableRawPointer(object))
    }

    /// Turns a returned OrtStatus into an error (and frees it); `nil` means success.
    func check(
        _ status: OpaquePointer?, _ action: @autoclosure () -> String,
        makeError: ((StatusCode, String) -> any Error)? = nil
    ) throws {
        guard let status else { return }
        defer { release(.releaseStatus, status) }
        let code = function(.getErrorCode, wharf_ort_get_error_code_fn.self)(status)
        let message = stringFromC(function(.getErrorMessage, wharf_ort_get_error_message_fn.self)(status))
        let statusCode = ONNXRuntimeLibrary.statusCode(ortCode: code)
        if let makeError { throw makeError(statusCode, message) }
        throw RuntimeError(.runtimeFailure, "ONNX Runtime failed \(action()): \(message)", status: statusCode)
    }
}
