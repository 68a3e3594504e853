import HarnessTestSupport
import FakeKafka
import KafkaProtocol
import NIOCore
import Testing

/// The config and cluster admin APIs at the version edges no client here sends: v0 (where a
/// default is flagged by `is_default`, not by a source) and the first flexible versions.
@Suite("Config admin", .guarded)
struct ConfigAdminTests {
    private func connect(_ cluster: FakeKafkaCluster) async throws -> RawKafkaClient {
        let broker = cluster.brokers[0]
        return try await RawKafkaClient.connect(host: broker.host, port: broker.port)
    }

    private func describe(_ raw: RawKafkaClient, _ topic: String, keys: [String], version: Int16) async throws -> DescribeConfigsResponse {
        let request = DescribeConfigsRequest(resources: [.init(resourceType: 2, resourceName: topic, configurationKeys: keys)])
        var body = try #require(try await raw.request(request, apiKey: .describeConfigs, version: version))
        return try DescribeConfigsResponse(from: &body, version: version)
    }

    @Test("an incremental SET (flexible v1) is described as the topic's own at v0 and v4; DELETE restores the default")
    func incrementalSetThenDescribe() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("configs")
            try cluster.createTopic(topic, partitions: 1)
            let raw = try await connect(cluster)
            let set = IncrementalAlterConfigsRequest(resources: [.init(resourceType: 2, resourceName: topic, configs: [
                .init(name: "retention.ms", configOperation: 0, value: "1234"),
            ])])
            var body = try #require(try await raw.request(set, apiKey: .incrementalAlterConfigs, version: 1))
            #expect(try IncrementalAlterConfigsResponse(from: &body, version: 1).responses.map(\.errorCode) == [0])
            for version: Int16 in [0, 4] {
                let result = try await describe(raw, topic, keys: ["retention.ms", "segment.bytes"], version: version).results[0]
                #expect(result.errorCode == 0)
                #expect(result.configs.map(\.name) == ["retention.ms", "segment.bytes"])
                #expect(result.configs.map(\.value) == ["1234", "1073741824"])
                if version == 0 {
                    #expect(result.configs.map(\.isDefault) == [false, true])
                } else {
                    #expect(result.configs.map(\.configSource) == [1, 5])
                }
            }
            let delete = IncrementalAlterConfigsRequest(resources: [.init(resourceType: 2, resourceName: topic, configs: [
                .init(name: "retention.ms", configOperation: 1, value: nil),
            ])])
            _ = try await raw.request(delete, apiKey: .incrementalAlterConfigs, version: 0)
            let after = try await describe(raw, topic, keys: ["retention.ms"], version: 4).results[0].configs[0]
            #expect(after.value == "604800000" && after.configSource == 5)
            await raw.close()
        }
    }

    @Test("AlterConfigs v0 replaces the overrides and refuses an unknown name without applying the rest")
    func alterReplaces() async throws {
        try await withCluster { cluster in
            let topic = uniqueName("alter")
            try cluster.createTopic(topic, partitions: 1)
            let raw = try await connect(cluster)
            func alter(_ configs: [(String, String)]) async throws -> AlterConfigsResponse.AlterConfigsResourceResponse {
                let request = AlterConfigsRequest(resources: [.init(resourceType: 2, resourceName: topic, configs: configs.map { .init(name: $0.0, value: $0.1) })])
                var body = try #require(try await raw.request(request, apiKey: .alterConfigs, version: 0))
                return try AlterConfigsResponse(from: &body, version: 0).responses[0]
            }
            #expect(try await alter([("retention.ms", "10"), ("segment.ms", "20")]).errorCode == 0)
            #expect(try await alter([("segment.ms", "30")]).errorCode == 0)
            let refused = try await alter([("segment.ms", "40"), ("no.such.config", "1")])
            #expect(refused.errorCode == KafkaErrorCode.invalidConfig.rawValue)
            #expect(refused.errorMessage == "Unknown topic config name: no.such.config")
            let configs = try await describe(raw, topic, keys: ["retention.ms", "segment.ms"], version: 1).results[0].configs
            #expect(configs.map(\.value) == ["604800000", "30"])
            await raw.close()
        }
    }

    @Test("DescribeCluster lists the brokers that are up and the controller; v1 refuses a request for controllers")
    func describeCluster() async throws {
        try await withCluster(brokers: 3) { cluster in
            let raw = try await connect(cluster)
            var body = try #require(try await raw.request(DescribeClusterRequest(), apiKey: .describeCluster, version: 0))
            let response = try DescribeClusterResponse(from: &body, version: 0)
            #expect(response.errorCode == 0)
            #expect(response.clusterId == "fake-kafka-cluster")
            #expect(response.controllerId == 0)
            #expect(response.brokers.map(\.brokerId) == [0, 1, 2])
            #expect(response.brokers.map(\.port) == cluster.brokers.map { Int32($0.port) })
            var refusedBody = try #require(try await raw.request(DescribeClusterRequest(endpointType: 2), apiKey: .describeCluster, version: 1))
            let refused = try DescribeClusterResponse(from: &refusedBody, version: 1)
            #expect(refused.errorCode == KafkaErrorCode.mismatchedEndpointType.rawValue && refused.brokers.isEmpty)
            await raw.close()
        }
    }
}
