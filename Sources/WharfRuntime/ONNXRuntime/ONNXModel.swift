import CWharfRuntimeABI
import Foundation
public import WharfCore

/// An ONNX model loaded into an ONNX Runtime session. It has one signature, `serving_default`,
/// whose inputs and outputs are the graph's.
public final class ONNXModel: InferenceModel, @unchecked Sendable {
    // @unchecked Sendable: stored properties are immutable after init (the C name strings are
    // never written after they are made); OrtRun is documented thread-safe on one session.

    public let path: String
    public let signatures: [Signature]
    public let metadata: [String: String]
    public var runtime: RuntimeKind { .onnxruntime }
    public var format: ModelFormat { .onnx }

    private let library: ONNXRuntimeLibrary
    private let session: OpaquePointer
    /// NUL-terminated copies of the graph's input and output names, made once.
    private let cNames: [String: UnsafeMutablePointer<CChar>]
    /// What every run passes: the inputs' names in the graph's order, and the outputs' when a
    /// request names none, as Swift strings and as the C strings above.
    private let inputNames: [String]
    private let inputCNames: [UnsafePointer<CChar>?]
    private let outputNames: [String]
    private let outputCNames: [UnsafePointer<CChar>?]

    init(path: String, options: RuntimeOptions, library: ONNXRuntimeLibrary) throws {
        self.path = path
        self.library = library
        var sessionOptions: OpaquePointer?
        try library.check(
            library.function(.createSessionOptions, wharf_ort_create_session_options_fn.self)(&sessionOptions),
            "creating session options")
        defer { library.release(.releaseSessionOptions, sessionOptions) }
        let setInt = { (slot: ORTSlot, value: Int32, what: String) throws in
            try library.check(library.function(slot, wharf_ort_session_options_int_fn.self)(sessionOptions, value), what)
        }
        if options.intraOpThreads > 0 {
            try setInt(.setIntraOpNumThreads, Int32(clamping: options.intraOpThreads), "setting intra-op threads")
        }
        if options.interOpThreads > 0 {
            try setInt(.setInterOpNumThreads, Int32(clamping: options.interOpThreads), "setting inter-op threads")
            // Inter-op threads only run operations side by side in ORT_PARALLEL mode.
            if options.interOpThreads > 1 { try setInt(.setSessionExecutionMode, 1, "setting parallel execution") }
        }
        try setInt(.setSessionGraphOptimizationLevel, options.graphOptimization.ortValue, "setting the optimization level")
        try setInt(.setSessionLogSeverityLevel, 3, "setting the log level")
        if let spinning = options.allowSpinning {
            let value = spinning ? "1" : "0"
            let addEntry = library.function(.addSessionConfigEntry, wharf_ort_add_session_config_entry_fn.self)
            try library.check(addEntry(sessionOptions, "session.intra_op.allow_spinning", value), "setting intra-op spinning")
            try library.check(addEntry(sessionOptions, "session.inter_op.allow_spinning", value), "setting inter-op spinning")
        }

        var session: OpaquePointer?
        try library.check(
            library.function(.createSession, wharf_ort_create_session_fn.self)(library.environment, path, sessionOptions, &session),
            "", makeError: { code, text in
                RuntimeError(
                    code == .notFound ? .modelNotFound : .modelInvalid,
                    "cannot load the ONNX model at \(path): \(text)", status: code == .notFound ? .notFound : .dataLoss)
            })
        self.session = session!

        do {
            let inputs = try ONNXModel.describe(session: session!, library: library, outputs: false)
            let outputs = try ONNXModel.describe(session: session!, library: library, outputs: true)
            var names: [String: UnsafeMutablePointer<CChar>] = [:]
            for spec in inputs + outputs where names[spec.name] == nil { names[spec.name] = strdup(spec.name) }
            self.cNames = names
            self.signatures = [Signature(key: Signature.defaultKey, inputs: inputs, outputs: outputs)]
            inputNames = inputs.map(\.name)
            inputCNames = inputs.map { UnsafePointer(names[$0.name]!) }
            outputNames = outputs.map(\.name)
            outputCNames = outputs.map { UnsafePointer(names[$0.name]!) }
        } catch {
            library.release(.releaseSession, session)
            throw error
        }
        var metadata = ["runtime_version": library.version]
        metadata.merge(ONNXModel.modelMetadata(session: session!, library: library)) { $1 }
        self.metadata = metadata
    }

    deinit {
        library.release(.releaseSession, session)
        for pointer in cNames.values { free(pointer) }
    }

    /// The session's inputs or outputs as tensor specs.
    private static func describe(session: OpaquePointer, library: ONNXRuntimeLibrary, outputs: Bool) throws -> [TensorSpec] {
        var count = 0
        let countSlot: ORTSlot = outputs ? .sessionGetOutputCount : .sessionGetInputCount
        try library.check(library.function(countSlot, wharf_ort_session_count_fn.self)(session, &count), "counting inputs")
        let nameFunction = library.function(
            outputs ? .sessionGetOutputName : .sessionGetInputName, wharf_ort_session_name_fn.self)
        let typeFunction = library.function(
            outputs ? .sessionGetOutputTypeInfo : .sessionGetInputTypeInfo, wharf_ort_session_type_info_fn.self)
        var specs: [TensorSpec] = []
        for index in 0..<count {
            var rawName: UnsafeMutablePointer<CChar>?
            try library.check(nameFunction(session, index, library.allocator, &rawName), "reading a name")
            let name = library.takeString(rawName)
            var typeInfo: OpaquePointer?
            try library.check(typeFunction(session, index, &typeInfo), "reading the type of '\(name)'")
            defer { library.release(.releaseTypeInfo, typeInfo) }
            var onnxType: Int32 = 0
            try library.check(
                library.function(.getOnnxTypeFromTypeInfo, wharf_ort_get_onnx_type_fn.self)(typeInfo, &onnxType), "reading a type")
            var tensorInfo: OpaquePointer?
            try library.check(
                library.function(.castTypeInfoToTensorInfo, wharf_ort_cast_type_info_to_tensor_info_fn.self)(typeInfo, &tensorInfo),
                "reading a tensor type")
            guard onnxType == 1, let tensorInfo else {  // ONNX_TYPE_TENSOR
                throw RuntimeError(
                    .unsupportedModel, "\(outputs ? "output" : "input") '\(name)' is not a tensor (ONNX type \(onnxType)); Wharf serves tensor inputs and outputs only")
            }
            let (elementType, dims) = try tensorTypeAndShape(tensorInfo, library: library)
            guard let dtype = ONNXRuntimeLibrary.dataType(elementType: elementType) else {
                throw RuntimeError(
                    .unsupportedModel, "\(outputs ? "output" : "input") '\(name)' has ONNX element type \(elementType), which Wharf cannot serve")
            }
            specs.append(TensorSpec(name: name, dtype: dtype, shape: TensorShape(dims)))
        }
        return specs
    }

    /// Element type and dimensions (`-1` where dynamic) of a tensor type description.
    private static func tensorTypeAndShape(_ info: OpaquePointer, library: ONNXRuntimeLibrary) throws -> (Int32, [Int]) {
        var elementType: Int32 = 0
        try library.check(
            library.function(.getTensorElementType, wharf_ort_get_tensor_element_type_fn.self)(info, &elementType),
            "reading an element type")
        var rank = 0
        try library.check(library.function(.getDimensionsCount, wharf_ort_get_dimensions_count_fn.self)(info, &rank), "reading a rank")
        var dims = [Int](repeating: 0, count: rank)
        // ONNX Runtime writes int64_t, the layout of Int on every platform Wharf builds for.
        let status = dims.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: Int64.self) { int64s in
                library.function(.getDimensions, wharf_ort_get_dimensions_fn.self)(info, int64s.baseAddress, rank)
            }
        }
        try library.check(status, "reading dimensions")
        return (elementType, dims)
    }

    private static func modelMetadata(session: OpaquePointer, library: ONNXRuntimeLibrary) -> [String: String] {
        var handle: OpaquePointer?
        guard (try? library.check(
            library.function(.sessionGetModelMetadata, wharf_ort_session_get_model_metadata_fn.self)(session, &handle), "")) != nil,
            let handle
        else { return [:] }
        defer { library.release(.releaseModelMetadata, handle) }
        var result: [String: String] = [:]
        let fields: [(String, ORTSlot)] = [
            ("producer", .modelMetadataGetProducerName), ("graph_name", .modelMetadataGetGraphName),
            ("domain", .modelMetadataGetDomain), ("description", .modelMetadataGetDescription),
        ]
        for (key, slot) in fields {
            var value: UnsafeMutablePointer<CChar>?
            if (try? library.check(library.function(slot, wharf_ort_model_metadata_string_fn.self)(handle, library.allocator, &value), "")) != nil {
                let text = library.takeString(value)
                if !text.isEmpty { result[key] = text }
            }
        }
        var version: Int64 = 0
        if (try? library.check(library.function(.modelMetadataGetVersion, wharf_ort_model_metadata_version_fn.self)(handle, &version), "")) != nil {
            result["model_version"] = String(version)
        }
        return result
    }

    public func run(signature key: String?, inputs: [String: Tensor], outputs requested: [String]?) throws -> [String: Tensor] {
        try run(prepared: prepare(signature: key, inputs: inputs, outputs: requested), inputs: inputs, outputs: requested)
    }

    public func run(prepared signature: Signature, inputs: [String: Tensor], outputs requested: [String]?) throws -> [String: Tensor] {
        // The model has one signature, so `signature`'s names are the graph's (`prepare` checked
        // the request against it). The name arrays are made once; the values live on the stack.
        let library = self.library
        let outputNames = requested ?? self.outputNames
        let requestedCNames = requested.map { names in names.map { UnsafePointer(cNames[$0]!) as UnsafePointer<CChar>? } }
        let outputValues = try withUnsafeTemporaryAllocation(of: OpaquePointer?.self, capacity: inputNames.count) { inputValues in
            inputValues.initialize(repeating: nil)
            defer { for value in inputValues { library.release(.releaseValue, value) } }
            for (index, name) in inputNames.enumerated() {
                inputValues[index] = try makeValue(inputs[name]!, input: name)
            }
            var outputValues = [OpaquePointer?](repeating: nil, count: outputNames.count)
            let status = withExtendedLifetime(inputs) {
                inputCNames.withUnsafeBufferPointer { inputCNames in
                    (requestedCNames ?? outputCNames).withUnsafeBufferPointer { outputCNames in
                        library.function(.run, wharf_ort_run_fn.self)(
                            session, nil, inputCNames.baseAddress, UnsafePointer(inputValues.baseAddress), inputValues.count,
                            outputCNames.baseAddress, outputCNames.count, &outputValues)
                    }
                }
            }
            try library.check(status, "", makeError: { code, text in
                InferenceError(.runFailed, "ONNX Runtime failed to run the model: \(text)", status: code == .internal ? .internal : .invalidArgument)
            })
            return outputValues
        }

        var result: [String: Tensor] = [:]
        var firstError: (any Error)?
        for (name, value) in zip(outputNames, outputValues) {
            guard let value else { continue }
            do {
                result[name] = try adopt(value, output: name)
            } catch {
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
        return result
    }

    /// An OrtValue for `tensor`. Fixed-width tensors are wrapped without copying; the caller keeps
    /// `tensor` alive until the value is released.
    private func makeValue(_ tensor: Tensor, input: String) throws -> OpaquePointer {
        let library = self.library
        let elementType = ONNXRuntimeLibrary.elementType(for: tensor.dtype)
        var value: OpaquePointer?
        switch tensor.storage {
        case .dense(let buffer, let offset, let byteCount):
            // The shape is passed as it is: int64_t has Int's layout on every platform Wharf builds for.
            let status = tensor.shape.withUnsafeBufferPointer { shape in
                shape.withMemoryRebound(to: Int64.self) { int64s in
                    library.function(.createTensorWithDataAsOrtValue, wharf_ort_create_tensor_with_data_fn.self)(
                        library.cpuMemory, buffer.baseAddress + offset, byteCount, int64s.baseAddress, int64s.count, elementType, &value)
                }
            }
            try library.check(status, "wrapping input '\(input)'")
        case .strings(let elements):
            if let index = elements.firstIndex(where: { $0.contains(0) }) {
                throw InferenceError(
                    .dtypeMismatch,
                    "input '\(input)' element \(index) contains a NUL byte; ONNX Runtime string tensors hold NUL-free text")
            }
            var dims = tensor.shape.map(Int64.init)
            try library.check(
                library.function(.createTensorAsOrtValue, wharf_ort_create_tensor_as_value_fn.self)(
                    library.allocator, &dims, dims.count, elementType, &value),
                "allocating input '\(input)'")
            let copies = elements.map { element -> UnsafeMutablePointer<CChar>? in
                let copy = UnsafeMutablePointer<CChar>.allocate(capacity: element.count + 1)
                element.withUnsafeBytes { bytes in
                    UnsafeMutableRawPointer(copy).copyMemory(from: bytes.baseAddress ?? UnsafeRawPointer(copy), byteCount: element.count)
                }
                copy[element.count] = 0
                return copy
            }
            defer { for copy in copies { copy?.deallocate() } }
            var pointers = copies.map { UnsafePointer($0) }
            do {
                try library.check(
                    library.function(.fillStringTensor, wharf_ort_fill_string_tensor_fn.self)(value, &pointers, pointers.count),
                    "filling input '\(input)'")
            } catch {
                library.release(.releaseValue, value)
                throw error
            }
        }
        return value!
    }

    /// A Wharf tensor for an output value; takes ownership of `value`.
    private func adopt(_ value: OpaquePointer, output: String) throws -> Tensor {
        let library = self.library
        var info: OpaquePointer?
        do {
            try library.check(
                library.function(.getTensorTypeAndShape, wharf_ort_get_tensor_type_and_shape_fn.self)(value, &info),
                "reading output '\(output)'")
        } catch {
            library.release(.releaseValue, value)
            throw error
        }
        let (elementType, shape): (Int32, [Int])
        do {
            defer { library.release(.releaseTensorTypeAndShapeInfo, info) }
            (elementType, shape) = try ONNXModel.tensorTypeAndShape(info!, library: library)
        } catch {
            library.release(.releaseValue, value)
            throw error
        }
        guard let dtype = ONNXRuntimeLibrary.dataType(elementType: elementType) else {
            library.release(.releaseValue, value)
            throw RuntimeError(.unsupportedModel, "output '\(output)' has ONNX element type \(elementType), which Wharf cannot serve")
        }
        if dtype == .string {
            defer { library.release(.releaseValue, value) }
            let count = shape.elementCount
            var byteCount = 0
            try library.check(
                library.function(.getStringTensorDataLength, wharf_ort_get_string_tensor_data_length_fn.self)(value, &byteCount),
                "reading output '\(output)'")
            var bytes = [UInt8](repeating: 0, count: max(byteCount, 1))
            var offsets = [Int](repeating: 0, count: max(count, 1))
            try library.check(
                library.function(.getStringTensorContent, wharf_ort_get_string_tensor_content_fn.self)(
                    value, &bytes, byteCount, &offsets, count),
                "reading output '\(output)'")
            var elements: [[UInt8]] = []
            elements.reserveCapacity(count)
            for index in 0..<count {
                let end = index + 1 < count ? offsets[index + 1] : byteCount
                elements.append(Array(bytes[offsets[index]..<end]))
            }
            return try Tensor(shape: shape, strings: elements)
        }
        var data: UnsafeMutableRawPointer?
        try library.check(
            library.function(.getTensorMutableData, wharf_ort_get_tensor_mutable_data_fn.self)(value, &data),
            "reading output '\(output)'")
        let byteCount = shape.elementCount * (dtype.byteWidth ?? 0)
        guard byteCount > 0, let data else {
            library.release(.releaseValue, value)
            return try Tensor(dtype: dtype, shape: shape) { _ in }
        }
        let handle = Int(bitPattern: value)
        let buffer = TensorBuffer(wrapping: data, byteCount: byteCount) { _ in
            library.release(.releaseValue, OpaquePointer(bitPattern: handle))
        }
        return try Tensor(dtype: dtype, shape: shape, buffer: buffer)
    }
}
