import CWharfRuntimeABI
import Foundation
import Synchronization
import WharfCore

/// The TensorFlow C API, opened from `libtensorflow_cc.so.2` with dlopen: every function Wharf
/// calls, looked up once. One instance per process (see `shared(locator:)`).
final class TensorFlowLibrary: Sendable {
    let path: String
    let version: String

    let newStatus: wharf_tf_new_status_fn
    let deleteStatus: wharf_tf_delete_status_fn
    let getCode: wharf_tf_get_code_fn
    let message: wharf_tf_message_fn
    let newBuffer: wharf_tf_new_buffer_fn
    let deleteBuffer: wharf_tf_delete_buffer_fn
    let newGraph: wharf_tf_new_graph_fn
    let deleteGraph: wharf_tf_delete_graph_fn
    let graphOperationByName: wharf_tf_graph_operation_by_name_fn
    let operationOutputType: wharf_tf_operation_output_type_fn
    let newSessionOptions: wharf_tf_new_session_options_fn
    let deleteSessionOptions: wharf_tf_delete_session_options_fn
    let setConfig: wharf_tf_set_config_fn
    let loadSessionFromSavedModel: wharf_tf_load_session_from_saved_model_fn
    let closeSession: wharf_tf_close_session_fn
    let deleteSession: wharf_tf_delete_session_fn
    let sessionRun: wharf_tf_session_run_fn
    let newTensor: wharf_tf_new_tensor_fn
    let allocateTensor: wharf_tf_allocate_tensor_fn
    let deleteTensor: wharf_tf_delete_tensor_fn
    let tensorType: wharf_tf_tensor_type_fn
    let numDims: wharf_tf_num_dims_fn
    let dim: wharf_tf_dim_fn
    let tensorByteSize: wharf_tf_tensor_byte_size_fn
    let tensorData: wharf_tf_tensor_data_fn
    let stringInit: wharf_tf_string_init_fn
    let stringCopy: wharf_tf_string_copy_fn
    let stringGetDataPointer: wharf_tf_string_get_data_pointer_fn
    let stringGetSize: wharf_tf_string_get_size_fn
    let stringDealloc: wharf_tf_string_dealloc_fn

    private init(path: String) throws(RuntimeError) {
        // TensorFlow logs every op registration and load step at INFO; keep warnings and errors
        // unless the user asked for more.
        setenv("TF_CPP_MIN_LOG_LEVEL", "1", 0)
        let library = try DynamicLibrary(
            path: path, runtime: .tensorflow,
            quietLines: ["All log messages before absl::InitializeLog()", "oneDNN custom operations are on"])
        func load<F>(_ name: String, _ type: F.Type = F.self) throws(RuntimeError) -> F {
            try library.function(name, as: type, runtime: .tensorflow)
        }
        self.path = path
        let versionFunction: wharf_tf_version_fn = try load("TF_Version")
        self.version = stringFromC(versionFunction())
        newStatus = try load("TF_NewStatus")
        deleteStatus = try load("TF_DeleteStatus")
        getCode = try load("TF_GetCode")
        message = try load("TF_Message")
        newBuffer = try load("TF_NewBuffer")
        deleteBuffer = try load("TF_DeleteBuffer")
        newGraph = try load("TF_NewGraph")
        deleteGraph = try load("TF_DeleteGraph")
        graphOperationByName = try load("TF_GraphOperationByName")
        operationOutputType = try load("TF_OperationOutputType")
        newSessionOptions = try load("TF_NewSessionOptions")
        deleteSessionOptions = try load("TF_DeleteSessionOptions")
        setConfig = try load("TF_SetConfig")
        loadSessionFromSavedModel = try load("TF_LoadSessionFromSavedModel")
        closeSession = try load("TF_CloseSession")
        deleteSession = try load("TF_DeleteSession")
        sessionRun = try load("TF_SessionRun")
        newTensor = try load("TF_NewTensor")
        allocateTensor = try load("TF_AllocateTensor")
        deleteTensor = try load("TF_DeleteTensor")
        tensorType = try load("TF_TensorType")
        numDims = try load("TF_NumDims")
        dim = try load("TF_Dim")
        tensorByteSize = try load("TF_TensorByteSize")
        tensorData = try load("TF_TensorData")
        stringInit = try load("TF_StringInit")
        stringCopy = try load("TF_StringCopy")
        stringGetDataPointer = try load("TF_StringGetDataPointer")
        stringGetSize = try load("TF_StringGetSize")
        stringDealloc = try load("TF_StringDealloc")
    }

    private static let loaded = Mutex<[String: TensorFlowLibrary]>([:])

    /// The process's TensorFlow library, opened on first use from where `locator` finds it.
    static func shared(locator: RuntimeLocator) throws(RuntimeError) -> TensorFlowLibrary {
        let path = try locator.locate(.tensorflow)
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        return try loaded.withLock { (libraries: inout [String: TensorFlowLibrary]) throws(RuntimeError) -> TensorFlowLibrary in
            if let library = libraries[resolved] { return library }
            let library = try TensorFlowLibrary(path: resolved)
            libraries[resolved] = library
            return library
        }
    }

    /// Runs `body` with a fresh status and turns a non-OK status into an error.
    func withStatus<Result>(
        _ body: (OpaquePointer) throws -> Result,
        error: (StatusCode, String) -> any Error
    ) throws -> Result {
        let status = newStatus()!
        defer { deleteStatus(status) }
        let result = try body(status)
        let code = getCode(status)
        guard code == 0 else {
            let text = stringFromC(message(status))
            throw error(StatusCode(rawValue: Int(code)) ?? .unknown, text)
        }
        return result
    }
}
