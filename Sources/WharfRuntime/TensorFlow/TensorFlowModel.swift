import CWharfRuntimeABI
import Foundation
public import WharfCore

/// A TensorFlow SavedModel loaded into a session through the C API.
public final class TensorFlowModel: InferenceModel, @unchecked Sendable {
    // @unchecked Sendable: every stored property is immutable after init; TF_SessionRun is
    // documented thread-safe for concurrent calls on one session; the graph is only read.

    /// The graph endpoints behind one signature's keys.
    private struct Binding {
        var inputs: [String: wharf_tf_output]
        var outputs: [String: wharf_tf_output]
    }

    public let path: String
    public let signatures: [Signature]
    public let metadata: [String: String]
    public var runtime: RuntimeKind { .tensorflow }
    public var format: ModelFormat { .savedModel }

    private let library: TensorFlowLibrary
    private let graph: OpaquePointer
    private let session: OpaquePointer
    private let bindings: [String: Binding]

    /// Loads the SavedModel at `path` with the `serve` tag.
    init(path: String, options: RuntimeOptions, library: TensorFlowLibrary) throws {
        self.path = path
        self.library = library
        let graph = library.newGraph()!
        let sessionOptions = library.newSessionOptions()
        defer { library.deleteSessionOptions(sessionOptions) }
        let metaGraphBuffer = library.newBuffer()!
        defer { library.deleteBuffer(metaGraphBuffer) }
        let session: OpaquePointer
        do {
            let config = ConfigProto.serialize(options)
            if !config.isEmpty {
                try library.withStatus({ status in
                    config.withUnsafeBytes { library.setConfig(sessionOptions, $0.baseAddress, $0.count, status) }
                }, error: { code, text in
                    RuntimeError(.runtimeFailure, "TensorFlow rejected the session configuration: \(text)", status: code)
                })
            }
            session = try library.withStatus({ status in
                let tag = strdup("serve")
                defer { free(tag) }
                var tags: [UnsafePointer<CChar>?] = [UnsafePointer(tag)]
                return tags.withUnsafeMutableBufferPointer { tagPointer in
                    library.loadSessionFromSavedModel(
                        sessionOptions, nil, path, tagPointer.baseAddress, 1, graph, metaGraphBuffer, status)
                }
            }, error: { code, text in
                RuntimeError(
                    code == .notFound ? .modelNotFound : .modelInvalid,
                    "cannot load the SavedModel at \(path) (tag 'serve'): \(text)", status: code)
            })!
        } catch {
            library.deleteGraph(graph)
            throw error
        }
        self.graph = graph
        self.session = session

        let bytes: [UInt8]
        if let data = metaGraphBuffer.pointee.data {
            bytes = Array(UnsafeRawBufferPointer(start: data, count: metaGraphBuffer.pointee.length))
        } else {
            bytes = []
        }
        let metaGraph: MetaGraphDef
        do {
            metaGraph = try MetaGraphDef(serialized: bytes[...])
        } catch {
            throw RuntimeError(.modelInvalid, "the MetaGraphDef of \(path) cannot be parsed", cause: error)
        }
        var signatures: [Signature] = []
        var bindings: [String: Binding] = [:]
        for definition in metaGraph.signatures where !definition.key.hasPrefix("__") {
            guard let (signature, binding) = TensorFlowModel.resolve(definition, graph: graph, library: library) else {
                continue
            }
            signatures.append(signature)
            bindings[signature.key] = binding
        }
        self.signatures = signatures
        self.bindings = bindings
        var metadata = ["runtime_version": library.version, "tags": metaGraph.tags.joined(separator: ",")]
        if let version = metaGraph.tensorflowVersion { metadata["tensorflow_version"] = version }
        self.metadata = metadata
    }

    deinit {
        let status = library.newStatus()
        library.closeSession(session, status)
        library.deleteSession(session, status)
        library.deleteStatus(status)
        library.deleteGraph(graph)
    }

    /// A signature and its graph endpoints; `nil` when it uses types or tensors Wharf cannot serve
    /// (sparse or composite tensors, resources).
    private static func resolve(
        _ definition: MetaGraphDef.SignatureDef, graph: OpaquePointer, library: TensorFlowLibrary
    ) -> (Signature, Binding)? {
        func endpoints(_ tensors: [MetaGraphDef.TensorBinding]) -> ([TensorSpec], [String: wharf_tf_output])? {
            var specs: [TensorSpec] = []
            var outputs: [String: wharf_tf_output] = [:]
            for tensor in tensors {
                guard let dtype = TFDataType.dataType(code: tensor.dtypeCode) else { return nil }
                let parts = tensor.tensorName.split(separator: ":", omittingEmptySubsequences: false)
                guard let operationName = parts.first, !operationName.isEmpty,
                    let operation = library.graphOperationByName(graph, String(operationName))
                else { return nil }
                let index = parts.count > 1 ? Int32(parts[1]) ?? 0 : 0
                specs.append(TensorSpec(name: tensor.key, dtype: dtype, shape: tensor.shape, tensorName: tensor.tensorName))
                outputs[tensor.key] = wharf_tf_output(oper: operation, index: index)
            }
            return (specs, outputs)
        }
        guard let (inputSpecs, inputs) = endpoints(definition.inputs),
            let (outputSpecs, outputs) = endpoints(definition.outputs)
        else { return nil }
        let signature = Signature(
            key: definition.key, methodName: definition.methodName, inputs: inputSpecs, outputs: outputSpecs)
        return (signature, Binding(inputs: inputs, outputs: outputs))
    }

    public func run(signature key: String?, inputs: [String: Tensor], outputs requested: [String]?) throws -> [String: Tensor] {
        try run(prepared: prepare(signature: key, inputs: inputs, outputs: requested), inputs: inputs, outputs: requested)
    }

    public func run(prepared signature: Signature, inputs: [String: Tensor], outputs requested: [String]?) throws -> [String: Tensor] {
        let binding = bindings[signature.key]!
        let outputNames = requested ?? signature.outputs.map(\.name)
        let inputNames = signature.inputs.map(\.name)

        var inputEndpoints = inputNames.map { binding.inputs[$0]! }
        var inputValues: [OpaquePointer?] = []
        inputValues.reserveCapacity(inputNames.count)
        defer { for value in inputValues { library.deleteTensor(value) } }
        for name in inputNames {
            inputValues.append(try makeTensor(inputs[name]!, input: name))
        }
        var outputEndpoints = outputNames.map { binding.outputs[$0]! }
        var outputValues = [OpaquePointer?](repeating: nil, count: outputNames.count)

        try library.withStatus({ status in
            library.sessionRun(
                session, nil, &inputEndpoints, &inputValues, Int32(inputValues.count),
                &outputEndpoints, &outputValues, Int32(outputValues.count), nil, 0, nil, status)
        }, error: { code, text in
            for value in outputValues where value != nil { library.deleteTensor(value) }
            return InferenceError(.runFailed, "TensorFlow failed to run signature '\(signature.key)': \(text)", status: code)
        })

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

    /// A TF_Tensor holding `tensor`'s elements; fixed-width tensors share Wharf's buffer.
    private func makeTensor(_ tensor: Tensor, input: String) throws -> OpaquePointer {
        let code = TFDataType.code(for: tensor.dtype)
        var dims = tensor.shape.map(Int64.init)
        switch tensor.storage {
        case .dense(let buffer, let offset, let byteCount):
            let retained = Unmanaged.passRetained(buffer).toOpaque()
            let created = library.newTensor(
                code, &dims, Int32(dims.count), buffer.baseAddress + offset, byteCount,
                { _, _, argument in
                    if let argument { Unmanaged<TensorBuffer>.fromOpaque(argument).release() }
                }, retained)
            guard let created else {
                Unmanaged<TensorBuffer>.fromOpaque(retained).release()
                throw InferenceError(.runFailed, "TensorFlow could not create a tensor for input '\(input)'", status: .internal)
            }
            return created
        case .strings(let elements):
            let stride = MemoryLayout<wharf_tf_tstring>.stride
            guard let created = library.allocateTensor(code, &dims, Int32(dims.count), elements.count * stride) else {
                throw InferenceError(.runFailed, "TensorFlow could not create a tensor for input '\(input)'", status: .internal)
            }
            let base = library.tensorData(created)!.bindMemory(to: wharf_tf_tstring.self, capacity: elements.count)
            for (index, element) in elements.enumerated() {
                library.stringInit(base + index)
                element.withUnsafeBufferPointer { bytes in
                    bytes.withMemoryRebound(to: CChar.self) { chars in
                        library.stringCopy(base + index, chars.baseAddress, chars.count)
                    }
                }
            }
            return created
        }
    }

    /// A Wharf tensor for a TF_Tensor the session returned; takes ownership of `value`.
    private func adopt(_ value: OpaquePointer, output: String) throws -> Tensor {
        let library = self.library
        let code = library.tensorType(value)
        let shape = (0..<library.numDims(value)).map { Int(library.dim(value, $0)) }
        guard let dtype = TFDataType.dataType(code: code) else {
            library.deleteTensor(value)
            throw RuntimeError(
                .unsupportedModel, "output '\(output)' is of type \(TFDataType.name(code: code)), which Wharf cannot serve")
        }
        if dtype == .string {
            defer { library.deleteTensor(value) }
            let count = shape.elementCount
            var elements: [[UInt8]] = []
            elements.reserveCapacity(count)
            if count > 0, let data = library.tensorData(value) {
                let base = data.bindMemory(to: wharf_tf_tstring.self, capacity: count)
                for index in 0..<count {
                    let size = library.stringGetSize(base + index)
                    let pointer = UnsafeRawPointer(library.stringGetDataPointer(base + index))
                    elements.append(size == 0 ? [] : Array(UnsafeRawBufferPointer(start: pointer, count: size)))
                }
            }
            return try Tensor(shape: shape, strings: elements)
        }
        let byteCount = library.tensorByteSize(value)
        guard byteCount > 0, let data = library.tensorData(value) else {
            library.deleteTensor(value)
            return try Tensor(dtype: dtype, shape: shape) { _ in }
        }
        let handle = Int(bitPattern: value)
        let buffer = TensorBuffer(wrapping: data, byteCount: byteCount) { _ in
            library.deleteTensor(OpaquePointer(bitPattern: handle))
        }
        return try Tensor(dtype: dtype, shape: shape, buffer: buffer)
    }
}
