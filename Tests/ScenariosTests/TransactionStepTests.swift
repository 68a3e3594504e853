import Scenarios
import Testing

@Suite("Scenario files: transactional produce steps", .guarded)
struct TransactionStepTests {
    @Test("transaction: commit|abort reads into the step; another word is refused at its column")
    func parse() throws {
        let s = try ScenarioYAML.parse("""
            name: txn
            steps:
              - produce: {topic: t, count: 3, transaction: commit}
              - produce: {topic: t, transaction: abort, compression: lz4}
              - produce: {topic: t}
            """)
        var committed = ProduceStep(topic: "t", count: 3)
        committed.transaction = .commit
        var aborted = ProduceStep(topic: "t", compression: .lz4)
        aborted.transaction = .abort
        #expect(s.steps.map(\.value) == [.produce(committed), .produce(aborted), .produce(ProduceStep(topic: "t"))])
        let error = try #require(throws: ScenarioFileError.self) {
            try ScenarioYAML.parse("name: x\nsteps:\n  - produce: {topic: t, transaction: maybe}\n", file: "t.yaml")
        }
        #expect(error.description == "t.yaml:3:38: produce.transaction: 'maybe' is not one of: commit, abort, open")
    }

    @Test("records of an aborted transaction are not due to exactly_once")
    func abortedNotDue() {
        func produced(_ index: Int, aborted: Bool) -> ProducedRecord {
            var r = ProducedRecord(index: index, cluster: "default", topic: "t", partition: 0, offset: Int64(index), key: "k", keyBytes: Array("k".utf8),
                                   value: "\(index)", timestamp: 1, producedAfterDeleting: [])
            r.aborted = aborted
            return r
        }
        let o = Observations(produced: [produced(0, aborted: true)], attempts: [], subscriptionIDs: ["s": ["sub-1"]],
                             subscriptionTopics: ["s": TopicOnCluster(cluster: "default", topic: "t")],
                             groupMembersAfterDelete: [:], unfinishedAfterDelete: [:], consumerGroups: [:], unfiredFaults: [])
        #expect(Expectation.delivered(subscription: "s", exactlyOnce: true).check(o) == nil)
    }
}
