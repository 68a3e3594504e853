import Foundation
import HarnessTestSupport
import KafkaIngress
import Testing

@Suite("One ingress per data directory", .guarded)
struct DataDirectoryTests {
    @Test("a second ingress on a directory in use is refused with a message naming it; once the first stops, it opens")
    func exclusive() async throws {
        let directory = NSTemporaryDirectory() + uniqueName("claimed")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let settings = KafkaIngress.Settings(configuration: IngressConfiguration(kafkaClusters: []), dataDirectory: directory)
        let first = try KafkaIngress(settings: settings)
        #expect {
            _ = try KafkaIngress(settings: settings)
        } throws: { error in
            "\(error)" == "the data directory \(directory) is in use by another ingress (pid \(getpid())); "
                + "another process joins it as a node (harness ingress on the same --data-dir), this one adds nodes with --nodes"
        }
        await first.shutdown()
        let second = try KafkaIngress(settings: settings)
        await second.shutdown()
    }
}
