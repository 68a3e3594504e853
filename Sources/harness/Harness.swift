import ArgumentParser

@main
struct Harness: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "harness",
        abstract: "IngressHarness: a fake Kafka cluster and tools for testing Kafka ingresses.",
        subcommands: [BrokerCommand.self, IngressCommand.self, RecorderCommand.self, RunCommand.self, MutateCommand.self, CaptureCommand.self]
    )
}
