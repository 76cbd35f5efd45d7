import WharfCore
public import WharfProtocols

extension BenchReport {
    /// The results as JSON: the settings, the model's inputs, and per step the counts, rates and
    /// latencies (microseconds).
    public func json() -> JSONValue {
        let settings: JSONValue = .object(JSONObject([
            "url": .string(configuration.normalizedBaseURL),
            "model": .string(configuration.model),
            "version": configuration.version.map { .int($0) } ?? .null,
            "protocol": .string(configuration.inferenceProtocol.rawValue),
            "batch_size": .int(Int64(configuration.batchSize)),
            "input_file": configuration.inputFile.map { .string($0) } ?? .null,
            "duration_s": .double(configuration.duration.seconds),
            "warmup_s": .double(configuration.warmup.seconds),
        ]))
        let inputs: JSONValue = .array(metadata.inputs.map { spec in
            .object(JSONObject([
                "name": .string(spec.name), "datatype": .string(spec.dtype.v2Name),
                "shape": .array((spec.shape.dimensions ?? [-1]).map { .int(Int64($0)) }),
            ]))
        })
        return .object(JSONObject([
            "settings": settings,
            "model_inputs": inputs,
            "steps": .array(steps.map(Self.json)),
        ]))
    }

    /// The JSON as bytes, with a final newline.
    public func jsonBytes() -> [UInt8] {
        json().serialized() + [UInt8(ascii: "\n")]
    }

    private static func json(_ step: BenchStepResult) -> JSONValue {
        let latency = step.latency
        var members: [JSONObject.Member] = []
        switch step.load {
        case .concurrency(let count):
            members.append(.init(key: "mode", value: "closed_loop"))
            members.append(.init(key: "concurrency", value: .int(Int64(count))))
        case .rate(let rate, let maxInFlight):
            members.append(.init(key: "mode", value: "open_loop"))
            members.append(.init(key: "target_rps", value: .double(rate)))
            members.append(.init(key: "max_in_flight", value: .int(Int64(maxInFlight))))
        }
        let rest: [(String, JSONValue)] = [
            ("duration_s", .double(step.duration)),
            ("requests", .int(Int64(step.requests))),
            ("errors", .int(Int64(step.errors))),
            ("error_messages", .array(step.errorMessages.map { .string($0) })),
            ("late", .int(Int64(step.late))),
            ("dropped", .int(Int64(step.dropped))),
            ("throughput_rps", .double(step.throughput)),
            ("sent_rps", .double(step.achievedRate)),
            ("latency_us", .object(JSONObject([
                "mean": .double(latency.mean), "min": .double(latency.min), "p50": .double(latency.p50),
                "p90": .double(latency.p90), "p95": .double(latency.p95), "p99": .double(latency.p99),
                "max": .double(latency.max),
            ]))),
        ]
        members += rest.map { JSONObject.Member(key: $0.0, value: $0.1) }
        return .object(JSONObject(members))
    }
}
