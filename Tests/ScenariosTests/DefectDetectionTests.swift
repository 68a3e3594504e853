import Foundation
import HarnessTestSupport
import KafkaIngress
import PlantedDefects
import ScenarioRunner
import Scenarios
import EmbeddedIngressTarget
import FakeKafkaTarget
import Testing

/// The proof that the assertions bite: the library's scenarios against an ingress told to have
/// one defect each must fail, on the expectation that defect breaks, with a clear message.
@Suite("Assertions catch a defective ingress", .guarded)
struct DefectDetectionTests {
    @Test("each defect fails the expectation it breaks", arguments: [
        (PlantedDefect.ignoreKeyOrder, "01-object-order.yaml", "no_overlap_per_key counter", "expected invocations of key"),
        (.dropOffsetHeader, "02-service-parallelism.yaml", "exactly_once log", "never were"),
        (.keepConsumingAfterDelete, "03-deletion.yaml", "deletion_honoured doomed", "expected the group to be empty after the delete"),
        (.invokeTwice, "02-service-parallelism.yaml", "exactly_once log", "were invoked more than once"),
        // Real Python SDK handlers: a replay without the ctx.run result charges again.
        (.dropRunCompletionOnReplay, "35-sdk-side-effect-once.yaml", "final_outputs payments", "ended with \"2\""),
    ])
    func defect(_ defect: PlantedDefect, file: String, expectation: String, message: String) async throws {
        let scenario = try ScenarioYAML.load(file: ScenarioRunnerTests.library.appendingPathComponent(file).path)
        let result = await ScenarioRunner(defects: [defect], concurrency: ScenarioRunnerTests.concurrency).run(scenario)
        let failure = result.failures.first { $0.expectation == expectation }
        #expect(failure != nil, "\(defect): expected '\(expectation)' to fail; failures: \(result.failures.map(\.description)), error: \(result.error ?? "none")")
        #expect(failure?.message.contains(message) == true, "\(failure?.description ?? "")")
        #expect(failure?.message.contains("Optional(") == false, "Swift syntax in a message for people: \(failure?.description ?? "")")
        #expect(failure?.location.file.hasSuffix(file) == true)
    }

    @Test("a dropped header fails headers_match_records")
    func droppedHeader() async throws {
        let scenario = try ScenarioYAML.load(file: ScenarioRunnerTests.library.appendingPathComponent("02-service-parallelism.yaml").path)
        let result = await ScenarioRunner(defects: [.dropOffsetHeader], concurrency: ScenarioRunnerTests.concurrency).run(scenario)
        let failure = try #require(result.failures.first { $0.expectation == "headers_match_records log" })
        #expect(failure.message.contains("name no produced record"), "\(failure)")
    }
}
