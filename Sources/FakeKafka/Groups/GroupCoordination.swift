import KafkaProtocol
import NIOCore

extension ClusterState {
    /// Why `broker` cannot serve requests for `group` right now, or nil when it can.
    func coordinatorError(group: String, broker: Int32) -> KafkaErrorCode? {
        let id = coordinator(for: group)
        guard brokers.first(where: { $0.id == id })?.isUp == true else { return .coordinatorNotAvailable }
        return id == broker ? nil : .notCoordinator
    }
}
