/// Builds the serialized TensorFlow `ConfigProto` for a session from `RuntimeOptions`.
///
/// Field numbers are those of tensorflow/core/protobuf/config.proto. Fields are written in field
/// order, so the bytes equal Python's `ConfigProto.SerializeToString(deterministic=True)` for the
/// same settings (the tests compare them).
package enum ConfigProto {
    private enum Field {
        // ConfigProto
        static let intraOpThreads = 2, interOpThreads = 5, gpuOptions = 6
        // GPUOptions
        static let memoryFraction = 1, allowGrowth = 4, visibleDeviceList = 5, experimental = 9
        // GPUOptions.Experimental and its VirtualDevices
        static let virtualDevices = 1, memoryLimitMB = 1
    }

    /// The serialized ConfigProto; empty when every option is the default.
    package static func serialize(_ options: RuntimeOptions) -> [UInt8] {
        var writer = ProtoWriter()
        if options.intraOpThreads > 0 {
            writer.writeInt32(field: Field.intraOpThreads, Int32(clamping: options.intraOpThreads))
        }
        if options.interOpThreads > 0 {
            writer.writeInt32(field: Field.interOpThreads, Int32(clamping: options.interOpThreads))
        }
        let gpu = options.gpu
        if !gpu.isDefault {
            writer.writeMessage(field: Field.gpuOptions) { message in
                if let fraction = gpu.memoryFraction {
                    message.writeDouble(field: Field.memoryFraction, fraction)
                }
                if gpu.allowMemoryGrowth {
                    message.writeBool(field: Field.allowGrowth, true)
                }
                if let devices = gpu.visibleDevices {
                    message.writeString(field: Field.visibleDeviceList, devices.map(String.init).joined(separator: ","))
                }
                if let limit = gpu.memoryLimitMB {
                    // One virtual device per visible GPU, each limited to `limit` MiB.
                    let deviceCount = max(gpu.visibleDevices?.count ?? 1, 1)
                    message.writeMessage(field: Field.experimental) { experimental in
                        for _ in 0..<deviceCount {
                            experimental.writeMessage(field: Field.virtualDevices) { device in
                                device.writePackedFloats(field: Field.memoryLimitMB, [Float(limit)])
                            }
                        }
                    }
                }
            }
        }
        return writer.bytes
    }
}
