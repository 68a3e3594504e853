import Foundation
import LiveResources
import Logging
import OTel
import RdKafka
import RestateProtocol
import ServiceLifecycle
import Synchronization
import Tracing

/// The spans Restate 1.7 exports for an invocation that a Kafka record started, sent over OTLP
/// to `tracing-endpoint`, with Restate's names and attributes:
///
/// - `ingress_kafka <target>`, when the record is journaled: a root span (Restate looks for a
///   `traceparent` only among the headers it generates, so it never finds one) carrying the
///   record's topic, partition and offset and the consumer group;
/// - `invocation-start <target>`, its child, from journaling until the invocation is first
///   invoked: the invocation's own span, the parent of what follows;
/// - `invocation-attempt <target>`, one per request to the deployment, whose `traceparent`
///   header names it, so the handler's own spans hang below it;
/// - `invocation-end <target>`, when the invocation completes or fails for good.
///
/// `<target>` is `Service/handler`, or `Service/{key}/handler` for keyed handlers (literally).
///
/// The tracer is this ingress's own, never the process-wide `InstrumentationSystem` (which can
/// be bootstrapped once), so several ingresses in one process (tests) each export their own.
/// The journal keeps the `traceparent` of each invocation's `ingress_kafka` span, so attempts
/// after a restart still join the invocation's trace.
final class InvocationTracing: Sendable {
    private let tracer: any Tracer
    private let exporting: ServiceGroup
    private let endpoint: String
    private let logger: Logger
    private let running = Mutex<(task: Task<Void, Never>, registration: Registration)?>(nil)
    /// Journaled and not yet invoked: when they were journaled.
    private let journaledAt = Mutex<[String: EpochInstant]>([:])
    /// Invoked since this ingress started: their `invocation-start` span, parent of the rest.
    private let invoked = Mutex<[String: Invoked]>([:])

    private struct Invoked: Sendable {
        let target: TracedTarget
        let context: InstrumentationContext
    }

    /// nil when no endpoint is configured: nothing is traced then, and nothing runs.
    static func make(_ configuration: TracingConfiguration, logger: Logger) throws -> InvocationTracing? {
        guard let url = configuration.effectiveEndpoint else { return nil }
        let endpoint: OTLPEndpoint
        do {
            endpoint = try OTLPEndpoint(parsing: url)
        } catch {
            throw ConfigurationError(source: "tracing-endpoint", line: nil, message: error.message)
        }
        var otel = OTel.Configuration.default
        // Restate's resource: its services spans come from "Restate", namespace "Restate".
        otel.serviceName = "Restate"
        otel.resourceAttributes = ["service.namespace": "Restate", "service.instance.id": configuration.instanceID]
        otel.diagnosticLogger = .custom(logger)
        otel.diagnosticLogLevel = .init(logger.logLevel)
        otel.propagators = [.traceContext]
        otel.logs.enabled = false
        otel.metrics.enabled = false
        otel.traces.exporter = .otlp
        otel.traces.otlpExporter.endpoint = endpoint.url
        otel.traces.otlpExporter.headers = configuration.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        switch endpoint.transport {
        case .httpProtobuf:
            otel.traces.otlpExporter.protocol = .httpProtobuf
        case .httpJSON:
            // swift-otel writes ids in base64 where OTLP/JSON wants hex, which collectors refuse;
            // they take protobuf at the same URL.
            logger.notice("tracing: \(url) asks for OTLP/JSON; sending protobuf to it instead (collectors take both at /v1/traces)")
            otel.traces.otlpExporter.protocol = .httpProtobuf
        case .grpc:
            otel.traces.otlpExporter.protocol = .grpc
        }
        let backend = try OTel.makeTracingBackend(configuration: otel)
        return InvocationTracing(tracer: backend.factory, service: backend.service, endpoint: endpoint.url, logger: logger)
    }

    private init(tracer: any Tracer, service: any Service, endpoint: String, logger: Logger) {
        self.tracer = tracer
        self.endpoint = endpoint
        self.logger = logger
        exporting = ServiceGroup(configuration: .init(services: [service], gracefulShutdownSignals: [], logger: logger))
    }

    /// Starts exporting (spans made before are exported then).
    func start() {
        running.withLock { running in
            guard running == nil else { return }
            let registration = LiveResources.opened("OTLP span exporter", endpoint)
            let exporting = self.exporting
            let logger = self.logger
            running = (Task {
                do {
                    try await exporting.run()
                } catch {
                    logger.error("tracing: the span exporter stopped: \(error)")
                }
            }, registration)
        }
    }

    /// Exports what is left, within `timeout` (the endpoint may be unreachable), then stops.
    func shutdown(within timeout: Duration) async {
        guard let (task, registration) = running.withLock({ running in defer { running = nil }; return running }) else { return }
        await exporting.triggerGracefulShutdown()
        if !(await withTimeout(timeout) { await task.value }) {
            logger.warning("tracing: spans not exported to \(endpoint) within \(timeout) are dropped")
            task.cancel()
            await task.value
        }
        registration.close()
    }

    // MARK: Spans

    /// `ingress_kafka`, for an invocation just journaled from `record`; returns its
    /// `traceparent`, to be journaled with the invocation.
    func journaled(_ record: RdKafkaRecord, invocationID: String, key: String?, target: Journal.Target) -> String? {
        let traced = TracedTarget(service: target.subscription.service, handler: target.subscription.handler, key: key)
        let now = EpochInstant.now
        let span = tracer.startSpan("ingress_kafka \(traced.short)", context: .topLevel, ofKind: .internal, at: now)
        span.updateAttributes { attributes in
            traced.describe(invocationID, in: &attributes)
            attributes["messaging.system"] = "kafka"
            attributes["messaging.consumer.group.name"] = target.subscription.groupID
            attributes["messaging.operation.type"] = "process"
            attributes["messaging.kafka.offset"] = SpanAttribute.int64(record.offset)
            attributes["messaging.source.partition.id"] = SpanAttribute.int64(Int64(record.partition))
            attributes["messaging.source.name"] = record.topic
        }
        span.end(at: now)
        var carrier: [String: String] = [:]
        tracer.inject(span.context, into: &carrier, using: HeaderInjector())
        guard let traceParent = carrier["traceparent"] else { return nil }
        journaledAt.withLock { $0[invocationID] = now }
        return traceParent
    }

    /// `invocation-start`, when the invocation is first invoked by this ingress (again after a
    /// restart: the span made before it is not known any more).
    func invoking(_ invocation: Invocation) {
        guard let traceParent = invocation.traceParent, invoked.withLock({ $0[invocation.id] == nil }) else { return }
        var parent = InstrumentationContext.topLevel
        tracer.extract(["traceparent": traceParent], into: &parent, using: HeaderExtractor())
        let target = TracedTarget(service: invocation.service, handler: invocation.handler, key: invocation.key)
        let since = journaledAt.withLock { $0.removeValue(forKey: invocation.id) } ?? .now
        let span = tracer.startSpan("invocation-start \(target.short)", context: parent, ofKind: .internal, at: since)
        span.updateAttributes { target.describe(invocation.id, in: &$0) }
        span.end(at: EpochInstant.now)
        invoked.withLock { $0[invocation.id] = Invoked(target: target, context: span.context) }
    }

    /// `invocation-attempt` around one request to the deployment, which gets its `traceparent`.
    /// Invocations without a trace are called as they are.
    func attempt(_ invocation: Invocation, at deployment: Deployment,
                 _ call: ([String: String]) async throws -> (InvocationResponse, [UInt8])) async throws -> (InvocationResponse, [UInt8]) {
        guard let parent = invoked.withLock({ $0[invocation.id] }) else { return try await call(deployment.additionalHeaders) }
        let span = tracer.startSpan("invocation-attempt \(parent.target.short)", context: parent.context, ofKind: .internal, at: EpochInstant.now)
        span.updateAttributes { attributes in
            attributes["rpc.system"] = "restate"
            parent.target.describe(invocation.id, in: &attributes)
            attributes["restate.deployment.id"] = deployment.id
            attributes["restate.deployment.address"] = deployment.uri
            attributes["restate.deployment.service_protocol_version"] = SpanAttribute.int64(Int64(deployment.protocolVersion))
        }
        defer { span.end(at: EpochInstant.now) }
        var headers = deployment.additionalHeaders
        tracer.inject(span.context, into: &headers, using: HeaderInjector())
        do {
            let result = try await call(headers)
            switch result.0.outcome {
            case .value, .failure:
                span.setStatus(SpanStatus(code: .ok))
            case .suspended:
                span.addEvent(SpanEvent(name: "restate.invocation.lifecycle.suspended"))
            case .error, .incomplete, .unsupported:
                span.setStatus(SpanStatus(code: .error, message: "transient failure"))
            }
            return result
        } catch {
            span.setStatus(SpanStatus(code: .error, message: "transient failure"))
            throw error
        }
    }

    /// `invocation-end`, once the invocation completed or failed for good.
    func ended(_ id: String, _ outcome: CompletionResult) {
        guard let invocation = invoked.withLock({ $0.removeValue(forKey: id) }) else { return }
        let span = tracer.startSpan("invocation-end \(invocation.target.short)", context: invocation.context, ofKind: .internal, at: EpochInstant.now)
        span.updateAttributes { attributes in
            invocation.target.describe(id, in: &attributes)
            switch outcome {
            case .value:
                attributes["restate.invocation.result"] = "success"
            case .failure(let failure):
                attributes["restate.invocation.result"] = "failure"
                attributes["error.message"] = failure.message
                attributes["restate.invocation.error.code"] = String(failure.code)
            }
        }
        switch outcome {
        case .value: span.setStatus(SpanStatus(code: .ok))
        case .failure(let failure): span.setStatus(SpanStatus(code: .error, message: failure.message))
        }
        span.end(at: EpochInstant.now)
    }
}

/// An invocation's target as Restate names it in spans.
private struct TracedTarget: Sendable {
    let service: String
    let handler: String
    /// nil for services.
    let key: String?

    /// In span names: the key left out (a literal `{key}`), so names do not multiply per key.
    var short: String { key == nil ? "\(service)/\(handler)" : "\(service)/{key}/\(handler)" }

    var full: String { key.map { "\(service)/\($0)/\(handler)" } ?? "\(service)/\(handler)" }

    /// The attributes every span of an invocation has.
    func describe(_ invocationID: String, in attributes: inout SpanAttributes) {
        attributes["rpc.service"] = service
        attributes["rpc.method"] = handler
        attributes["restate.invocation.id"] = invocationID
        attributes["restate.invocation.target"] = full
    }
}

/// A point in time for spans that start or end at a moment already past.
private struct EpochInstant: TracerInstant {
    var nanosecondsSinceEpoch: UInt64

    static var now: EpochInstant { EpochInstant(nanosecondsSinceEpoch: DefaultTracerClock.now.nanosecondsSinceEpoch) }

    static func < (a: EpochInstant, b: EpochInstant) -> Bool { a.nanosecondsSinceEpoch < b.nanosecondsSinceEpoch }
}

private struct HeaderInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
        carrier[key] = value
    }
}

private struct HeaderExtractor: Extractor {
    func extract(key: String, from carrier: [String: String]) -> String? {
        carrier[key]
    }
}

extension OTel.Configuration.LogLevel {
    init(_ level: Logger.Level) {
        switch level {
        case .trace: self = .trace
        case .debug: self = .debug
        case .info, .notice: self = .info
        case .warning: self = .warning
        case .error, .critical: self = .error
        }
    }
}
